-- Rate limits: per torrent (bytes per second, 0 = unlimited) and the server-wide speed
-- settings (global and alternative limits, the alternative schedule) as one JSON value
-- under a name in a small key-value table.
-- The same for SQLite and PostgreSQL.

ALTER TABLE torrents ADD COLUMN download_limit BIGINT NOT NULL DEFAULT 0;
ALTER TABLE torrents ADD COLUMN upload_limit BIGINT NOT NULL DEFAULT 0;

CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
