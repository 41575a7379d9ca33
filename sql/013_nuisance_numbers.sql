-- acd117 schema 013: the nuisance list supervisors keep at run time (besides the call
-- flows' `callers.nuisance`). A listed number is never refused: it hears the nuisance
-- warning and is served last. Rows past `until` are kept as history, not in force.
CREATE TABLE nuisance_numbers (
    number    text PRIMARY KEY,          -- E.164
    reason    text NOT NULL,
    until     timestamptz NOT NULL,
    added_by  text NOT NULL,
    added_at  timestamptz NOT NULL DEFAULT now()
);
