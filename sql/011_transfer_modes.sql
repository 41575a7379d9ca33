-- acd117 schema 011: attended transfers and conferences.
--
-- A transfer's mode: blind (handed on at once), attended (the agent talked to the number
-- first, the caller on hold) or conference (the number joined the caller and the agent);
-- and a result more: cancelled (the agent took the consultation back).
ALTER TABLE call_transfers
    ADD COLUMN mode text NOT NULL DEFAULT 'blind'
        CHECK (mode IN ('blind', 'attended', 'conference'));
ALTER TABLE call_transfers DROP CONSTRAINT call_transfers_result_check;
ALTER TABLE call_transfers ADD CONSTRAINT call_transfers_result_check
    CHECK (result IN ('queued', 'connected', 'failed', 'abandoned', 'refused', 'cancelled'));
