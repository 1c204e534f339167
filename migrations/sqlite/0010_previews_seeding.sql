-- Per torrent: first-and-last-piece-first order (previews) and BEP 16 super-seeding as flags
-- (0/1, like `sequential`), and the seconds it has spent seeding over its whole life, so the
-- seeding-time goal and qBittorrent's `seeding_time` survive a restart.
-- The same for SQLite and PostgreSQL.

ALTER TABLE torrents ADD COLUMN first_last_piece BIGINT NOT NULL DEFAULT 0;
ALTER TABLE torrents ADD COLUMN super_seeding BIGINT NOT NULL DEFAULT 0;
ALTER TABLE torrents ADD COLUMN seconds_seeding BIGINT NOT NULL DEFAULT 0;
