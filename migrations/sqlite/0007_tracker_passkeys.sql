-- The built-in tracker's per-user passkeys (`/announce?passkey=KEY`): one random key per
-- user, made when the user first asks for an announce URL.
-- The same for SQLite and PostgreSQL.

CREATE TABLE tracker_passkeys (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    passkey TEXT NOT NULL UNIQUE
);
