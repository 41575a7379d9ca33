-- acd117 schema 010: calls handed on by an agent.
--
-- One row per transfer: to another centre's queue (kind centre, target its id) or to an
-- outside number (kind number, target the number), with its result: queued at the
-- centre, connected to the number, failed (nobody answered there: the call came back to the
-- transferring centre's queue), abandoned (the caller left before either), or refused
-- (not a destination, or it could not take the call: the call stayed with the agent).
CREATE TABLE call_transfers (
    call_id      text NOT NULL,
    requested_at timestamptz NOT NULL,
    agent_id     text NOT NULL,
    from_centre  text,
    code         text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('centre', 'number')),
    target       text NOT NULL,
    result       text NOT NULL
                 CHECK (result IN ('queued', 'connected', 'failed', 'abandoned', 'refused')),
    at           timestamptz NOT NULL,
    PRIMARY KEY (call_id, requested_at)
);
CREATE INDEX call_transfers_requested_at ON call_transfers (requested_at);
CREATE INDEX call_transfers_from_centre ON call_transfers (from_centre, requested_at);

-- A transfer is not an escalation: the hop into the destination counts the call offered
-- there, and nothing escalated out of the centre that handed it on. A call back from an
-- outside number that did not answer (transfer_failed) was offered at that centre already.
CREATE OR REPLACE FUNCTION call_hops_count() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    prev call_hops%ROWTYPE;
BEGIN
    IF NEW.reason <> 'transfer_failed' THEN
        PERFORM call_intervals_add(NEW.at, NEW.centre_id, NEW.tier, p_offered => 1);
    END IF;
    IF NEW.reason NOT IN ('arrival', 'transfer', 'transfer_failed') THEN
        SELECT * INTO prev FROM call_hops
         WHERE call_id = NEW.call_id
           -- Row triggers run at the end of the statement, when later hops of the same
           -- batch are already in the table: only look back. Escalation goes up the
           -- tiers, which orders hops that share an instant.
           AND (at < NEW.at OR (at = NEW.at AND acd_tier_rank(tier) < acd_tier_rank(NEW.tier)))
         ORDER BY at DESC, acd_tier_rank(tier) DESC LIMIT 1;
        IF FOUND THEN
            PERFORM call_intervals_add(prev.at, prev.centre_id, prev.tier, p_escalated => 1);
        END IF;
    END IF;
    RETURN NULL;
END;
$$;
