-- acd117 schema 002: recording metadata (the audio files live on the recording store).
--
-- Supervisors search recordings by caller number, date, agent, centre and service; the
-- number and service come from the call row, so recording_search joins the two.

CREATE TABLE recordings (
    path        text PRIMARY KEY,   -- one file is one recording, so a replay is absorbed
    call_id     text NOT NULL,
    agent_id    text,
    centre_id   text,
    format      text NOT NULL,      -- wav, mp3
    started_at  timestamptz NOT NULL,
    duration_s  double precision NOT NULL,
    size_bytes  bigint NOT NULL,
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    stored_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recordings_call ON recordings (call_id);
CREATE INDEX recordings_started_at ON recordings (started_at);
CREATE INDEX recordings_agent ON recordings (agent_id, started_at);
CREATE INDEX recordings_centre ON recordings (centre_id, started_at);

CREATE VIEW recording_search AS
SELECT r.path, r.call_id, r.agent_id, r.centre_id, r.format, r.started_at, r.duration_s,
       r.size_bytes, r.sha256,
       c.caller, c.caller_e164, c.service, c.region_code, c.arrived_at, c.outcome
  FROM recordings r
  LEFT JOIN calls c USING (call_id);
