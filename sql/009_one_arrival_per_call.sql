-- acd117 schema 009: a call arrives once.
--
-- A call adopted after a restart (its welcome cut short before its facts were written on
-- the channel) is queued again, and acd117 records its arrival hop again, at the restart
-- time. call_hops' key (call_id, tier, at) does not see that as the same fact: the first
-- arrival is the one kept; the writer's ON CONFLICT DO NOTHING skips later ones (and so
-- the statistics trigger does not count the call as offered twice).

-- Arrivals recorded twice before this migration: keep the first, and take back the
-- "offered" the statistics trigger counted for the others.
WITH later AS (
    SELECT ctid FROM (
        SELECT ctid, row_number() OVER (PARTITION BY call_id ORDER BY at, ctid) AS n
          FROM call_hops WHERE reason = 'arrival'
    ) numbered WHERE n > 1
), gone AS (
    DELETE FROM call_hops h USING later WHERE h.ctid = later.ctid RETURNING h.*
)
SELECT call_intervals_add(at, centre_id, tier, p_offered => -1) FROM gone;

CREATE UNIQUE INDEX call_hops_one_arrival ON call_hops (call_id) WHERE reason = 'arrival';
