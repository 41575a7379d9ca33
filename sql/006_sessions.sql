-- acd117 schema 006: HTTP API sessions, so that a restart signs nobody out.
--
-- A session token is handed to the client once; only its SHA-256 (hex) is stored, so a
-- copy of this table lets nobody in. A session ends at expires_at or when its user signs
-- out (the row is deleted); deleting a user ends their sessions.

CREATE TABLE api_sessions (
    token_sha256 text PRIMARY KEY CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    username     text NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX api_sessions_expires_at ON api_sessions (expires_at);
CREATE INDEX api_sessions_username ON api_sessions (username);
