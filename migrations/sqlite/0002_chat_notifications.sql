-- The chat room and per-user notifications, SQLite flavour (migrations/postgres holds the
-- same for PostgreSQL). Times here are Unix milliseconds.

CREATE TABLE chat_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- completed, seeding or error
    kind TEXT NOT NULL,
    info_hash TEXT NOT NULL,
    -- The torrent's name when it happened.
    name TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- NULL while unread.
    read_at BIGINT
);

CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
