-- acd117 schema 001: call detail records, tier hops, offers, agent states and sessions.
--
-- Rows are written by acd.store from the records the routing core emits. Every table has a
-- natural key so that a replayed record (after a lost commit acknowledgement, or a spool
-- replayed after a crash) is absorbed instead of duplicated. There are no foreign keys on
-- purpose: after a crash a CallEnded may reach the database without its CallStarted, and
-- retention purges each table by its own time column.

CREATE TABLE calls (
    call_id          text PRIMARY KEY,
    -- From CallStarted.
    caller           text,              -- as delivered by the carrier
    caller_e164      text,              -- normalised, NULL when it could not be parsed
    caller_class     text,              -- priority class, "nuisance" for listed numbers
    line_type        text,              -- mobile, fixed, unknown
    priority         integer,
    region_code      text,              -- Kemendagri code, e.g. 32.73
    region_source    text,              -- which ingress rule gave the region
    service          text,
    trunk            text,              -- ingress: PJSIP endpoint
    did              text,              -- ingress: dialled number
    arrived_at       timestamptz,
    -- From CallEnded.
    outcome          text CHECK (outcome IN ('answered', 'abandoned', 'blocked')),
    answered_at      timestamptz,
    ended_at         timestamptz,
    tier             text CHECK (tier IN ('kabkota', 'province', 'national')),  -- highest reached
    answer_tier      text CHECK (answer_tier IN ('kabkota', 'province', 'national')),
    centre_id        text,              -- answering centre, or the last one the call waited at
    agent_id         text,
    wait_s           double precision,
    talk_s           double precision,  -- hold included
    hold_s           double precision,
    escalations      integer,
    -- From WrapUpEnded.
    wrap_up_s        double precision,
    wrap_up_ended_at timestamptz
);

-- Search by number, date, agent and centre; arrived_at also drives retention.
CREATE INDEX calls_arrived_at ON calls (arrived_at);
CREATE INDEX calls_caller_e164 ON calls (caller_e164, arrived_at);
CREATE INDEX calls_caller ON calls (caller, arrived_at);
CREATE INDEX calls_agent ON calls (agent_id, arrived_at);
CREATE INDEX calls_centre ON calls (centre_id, arrived_at);
-- Rows known only from a wrap-up (their call's other records lost in a crash) have no
-- arrival time; retention finds them here.
CREATE INDEX calls_without_arrival ON calls (wrap_up_ended_at) WHERE arrived_at IS NULL;

-- Every tier a call was queued at: on arrival (kabupaten/kota), escalated to the province,
-- then to the national centre.
CREATE TABLE call_hops (
    call_id   text NOT NULL,
    tier      text NOT NULL CHECK (tier IN ('kabkota', 'province', 'national')),
    centre_id text NOT NULL,
    reason    text NOT NULL,     -- arrival, timeout, unstaffed, closed, no_centre
    at        timestamptz NOT NULL,
    PRIMARY KEY (call_id, tier, at)
);
CREATE INDEX call_hops_at ON call_hops (at);
CREATE INDEX call_hops_centre ON call_hops (centre_id, at);

-- Every time an agent's phone was rung for a call, and how that ended.
CREATE TABLE call_offers (
    offer_id   text PRIMARY KEY,
    call_id    text NOT NULL,
    agent_id   text NOT NULL,
    centre_id  text NOT NULL,
    tier       text NOT NULL CHECK (tier IN ('kabkota', 'province', 'national')),
    device     text NOT NULL,
    offered_at timestamptz NOT NULL,
    ended_at   timestamptz NOT NULL,
    result     text NOT NULL     -- answered, no_answer, rejected, failed, cancelled
);
CREATE INDEX call_offers_call ON call_offers (call_id);
CREATE INDEX call_offers_agent ON call_offers (agent_id, offered_at);
CREATE INDEX call_offers_offered_at ON call_offers (offered_at);

-- Agent state changes: logged_out, available, ringing, on_call, after_call_work, paused.
CREATE TABLE agent_states (
    agent_id  text NOT NULL,
    at        timestamptz NOT NULL,
    state     text NOT NULL,
    centre_id text NOT NULL,
    reason    text,              -- pause reason code, logout reason
    device    text,              -- free seating: the phone the agent is logged in at
    call_id   text
);
-- The natural key. The call id is part of it because a simulated clock can put two state
-- changes of one agent (two offers rung and refused) at the same instant.
CREATE UNIQUE INDEX agent_states_key ON agent_states (agent_id, at, state, (coalesce(call_id, '')));
CREATE INDEX agent_states_at ON agent_states (at);
CREATE INDEX agent_states_centre ON agent_states (centre_id, at);

-- Agent sessions, login to logout, maintained from agent_states by a trigger so that every
-- path that writes states keeps them consistent.
CREATE TABLE agent_sessions (
    agent_id      text NOT NULL,
    login_at      timestamptz NOT NULL,
    logout_at     timestamptz,
    centre_id     text NOT NULL,
    device        text,
    logout_reason text,
    PRIMARY KEY (agent_id, login_at)
);
CREATE UNIQUE INDEX agent_sessions_open ON agent_sessions (agent_id) WHERE logout_at IS NULL;
CREATE INDEX agent_sessions_login_at ON agent_sessions (login_at);
CREATE INDEX agent_sessions_centre ON agent_sessions (centre_id, login_at);

-- Row triggers fire only for rows actually inserted (ON CONFLICT DO NOTHING skips replays),
-- and in insertion order, which the writer keeps equal to the order the core emitted them.
CREATE FUNCTION agent_states_to_sessions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state = 'logged_out' THEN
        UPDATE agent_sessions
           SET logout_at = NEW.at, logout_reason = NEW.reason
         WHERE agent_id = NEW.agent_id AND logout_at IS NULL AND login_at <= NEW.at;
    ELSE
        -- The first state after a logout (or the first one ever seen) opens a session; while
        -- a session is open, later states leave it alone.
        INSERT INTO agent_sessions (agent_id, login_at, centre_id, device)
        SELECT NEW.agent_id, NEW.at, NEW.centre_id, NEW.device
         WHERE NOT EXISTS (
            SELECT 1 FROM agent_sessions WHERE agent_id = NEW.agent_id AND logout_at IS NULL)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER agent_states_sessions AFTER INSERT ON agent_states
    FOR EACH ROW EXECUTE FUNCTION agent_states_to_sessions();

-- How long each state lasted: until the agent's next state change (NULL while current).
CREATE VIEW agent_state_spans AS
SELECT agent_id, centre_id, state, reason, device, call_id, at AS started_at,
       lead(at) OVER w AS ended_at,
       extract(epoch FROM lead(at) OVER w - at) AS duration_s
  FROM agent_states
WINDOW w AS (PARTITION BY agent_id ORDER BY at);
