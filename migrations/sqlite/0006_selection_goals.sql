-- File selection and seeding goals per torrent: file priorities as a JSON array of
-- "skip"/"low"/"normal"/"high" in file order (NULL = all normal), the sequential flag, and
-- the torrent's own seeding goals as JSON (NULL = the server's). The server-wide goals live
-- in `settings` under "seeding_goals".
-- The same for SQLite and PostgreSQL.

ALTER TABLE torrents ADD COLUMN file_priorities TEXT;
ALTER TABLE torrents ADD COLUMN sequential BIGINT NOT NULL DEFAULT 0;
ALTER TABLE torrents ADD COLUMN seeding_goals TEXT;
