-- Watch folders and shared folders (per user), and the torrents a shared folder's items
-- became (so a restart does not hash them again). Times are Unix milliseconds.

CREATE TABLE folders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- watch or share
    kind TEXT NOT NULL,
    -- Absolute; a share's is canonical.
    path TEXT NOT NULL,
    -- Watch: category and save path of added torrents, 1 = add paused.
    category TEXT,
    save_path TEXT,
    paused BIGINT NOT NULL DEFAULT 0,
    -- Share: files or subfolders.
    mode TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (kind, path)
);

CREATE TABLE folder_items (
    folder_id BIGINT NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
    -- The file's or subfolder's name in the shared folder.
    name TEXT NOT NULL,
    size BIGINT NOT NULL,
    mtime_ms BIGINT NOT NULL,
    info_hash TEXT NOT NULL,
    PRIMARY KEY (folder_id, name)
);
