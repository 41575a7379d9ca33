-- acd117 schema 014: how long the agents' microphones were muted from the console during
-- the call (as hold_s is for the caller on hold).
ALTER TABLE calls ADD COLUMN mute_s double precision;
