-- acd117 schema 007: audit lines come through the record writer's spool (acd/store/audit.py),
-- so an action taken while PostgreSQL is down is audited once it is back. Each line carries
-- its own id, the natural key that makes a replayed spool write it only once.

ALTER TABLE audit_log ADD COLUMN entry_id text UNIQUE;
