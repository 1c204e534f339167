-- Categories (a name and a save path, per user), free tags (per user), and per torrent its
-- category, tags and a small numeric id (Transmission RPC addresses torrents by it).
-- The same for SQLite and PostgreSQL.

CREATE TABLE categories (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- Relative to the user's download folder; '' = the folder itself.
    save_path TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, name)
);

CREATE TABLE tags (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    PRIMARY KEY (user_id, name)
);

CREATE TABLE torrent_labels (
    -- Assigned once when the torrent is added, never changed while it exists.
    id BIGINT PRIMARY KEY,
    info_hash TEXT NOT NULL UNIQUE REFERENCES torrents (info_hash) ON DELETE CASCADE,
    category TEXT,
    -- Tag names joined by ',' (tags cannot contain commas), sorted.
    tags TEXT NOT NULL DEFAULT ''
);

INSERT INTO torrent_labels (id, info_hash)
    SELECT ROW_NUMBER() OVER (ORDER BY added_ms, info_hash), info_hash FROM torrents;
