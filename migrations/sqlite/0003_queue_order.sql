-- When each torrent was added, in Unix milliseconds: orders the download queue
-- (MAX_CONCURRENT_TORRENTS) among torrents of the same priority added in the same second.
-- The same for SQLite and PostgreSQL.

ALTER TABLE torrents ADD COLUMN added_ms BIGINT NOT NULL DEFAULT 0;
UPDATE torrents SET added_ms = added_at * 1000;
