-- acd117 schema 004: users of the HTTP API and the audit log.
--
-- Roles: agent (call takers: log in, pause, log out), supervisor (monitor agents, force a
-- log-out, search and play recordings), admin (everything, plus call flows and users).
-- Passwords are stored as argon2id hashes only.

CREATE TABLE users (
    username            text PRIMARY KEY CHECK (username ~ '^[A-Za-z0-9_.-]{3,64}$'),
    role                text NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
    password_hash       text NOT NULL CHECK (password_hash LIKE '$argon2%'),
    agent_id            text,               -- an agent's id in the call flows
    display_name        text,
    disabled            boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_agent_id ON users (agent_id) WHERE agent_id IS NOT NULL;

-- Every sign-in (and failed attempt), every action taken through the API on someone else's
-- behalf (force log-out, monitoring, config reload) and every access to a recording.
CREATE TABLE audit_log (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    username text,                  -- NULL when nobody could be identified
    role     text,
    action   text NOT NULL,         -- e.g. login, recording.search, recording.play
    target   text,                  -- what it was done to: an agent, a file, a config folder
    outcome  text NOT NULL,         -- ok, denied, failed, refused
    remote   text,                  -- the client's address
    detail   jsonb
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_user ON audit_log (username, at);
CREATE INDEX audit_log_action ON audit_log (action, at);

-- The order in which an agent's states were written, for states that share an instant (a
-- simulated clock, or a login and a ring in the same millisecond): the writer inserts them
-- in the order the core emitted them.
ALTER TABLE agent_states ADD COLUMN seq bigserial;
