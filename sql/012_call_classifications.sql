-- acd117 schema 012: what each call was, as the agent who took it classified it.
--
-- One row per classification given (the codes of the call flows' `wrapup:` section); an
-- agent who corrects it adds a later row and the latest one stands (`call_classes`).
-- Emergency reports carry their type, the place and the people affected.
CREATE TABLE call_classifications (
    call_id         text NOT NULL,
    classified_at   timestamptz NOT NULL,
    agent_id        text NOT NULL,
    code            text NOT NULL,
    emergency_type  text,
    place           text,
    people_affected integer CHECK (people_affected >= 0),
    notes           text,
    PRIMARY KEY (call_id, classified_at)
);
CREATE INDEX call_classifications_at ON call_classifications (classified_at);
CREATE INDEX call_classifications_code ON call_classifications (code, classified_at);

-- The classification that stands for each call.
CREATE VIEW call_classes AS
SELECT DISTINCT ON (call_id) *
  FROM call_classifications
 ORDER BY call_id, classified_at DESC;
