-- Torrents their owners mark public: listed in this server's federation catalog and found by
-- `/api/search` (here and on federated servers). Private by default.
-- The same for SQLite and PostgreSQL.

ALTER TABLE torrents ADD COLUMN is_public BIGINT NOT NULL DEFAULT 0;
