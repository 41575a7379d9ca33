-- A call acd117 gave back to the dialplan's fallback queue after a failure is neither
-- answered nor abandoned here: its own outcome, so it does not count against the
-- abandon rate (Asterisk's queue log has the rest of its story).
ALTER TABLE calls DROP CONSTRAINT calls_outcome_check;
ALTER TABLE calls ADD CONSTRAINT calls_outcome_check
    CHECK (outcome IN ('answered', 'abandoned', 'blocked', 'handed_off'));
