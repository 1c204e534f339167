-- TorrentEdge schema, PostgreSQL flavour (migrations/sqlite holds the same schema for SQLite).
-- Times are Unix seconds; byte counts are BIGINT.

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    -- Bumped when the password changes: older tokens stop working.
    token_version BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE torrents (
    info_hash TEXT PRIMARY KEY,
    owner_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- The .torrent file; NULL while a magnet waits for its metadata.
    metainfo BYTEA,
    magnet TEXT,
    save_path TEXT NOT NULL,
    -- Last state seen (checking, downloading, seeding, paused, error, fetchingMetadata).
    state TEXT NOT NULL,
    -- What the user asked for: 1 = paused. A restart restores this.
    paused BIGINT NOT NULL DEFAULT 0,
    priority TEXT NOT NULL DEFAULT 'normal',
    added_at BIGINT NOT NULL,
    completed_at BIGINT,
    uploaded BIGINT NOT NULL DEFAULT 0,
    downloaded BIGINT NOT NULL DEFAULT 0,
    bytes_done BIGINT NOT NULL DEFAULT 0,
    total_bytes BIGINT NOT NULL DEFAULT 0,
    error TEXT
);

CREATE INDEX torrents_owner ON torrents (owner_id);

-- Samples for charts: user_id 0 is the whole server.
CREATE TABLE stats_history (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    download_rate BIGINT NOT NULL,
    upload_rate BIGINT NOT NULL,
    downloaded BIGINT NOT NULL,
    uploaded BIGINT NOT NULL,
    peers BIGINT NOT NULL,
    torrents BIGINT NOT NULL
);

CREATE INDEX stats_history_user_at ON stats_history (user_id, at);
