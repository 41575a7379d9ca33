-- acd117 schema 003: queue statistics per centre and tier in 15-minute intervals.
--
-- Counting rules (one queue = one centre at one tier):
--   offered    a call was queued there (a call_hops row), counted in the interval it entered;
--   escalated  a call left that queue for a higher tier, counted in the interval it entered;
--   answered, abandoned, blocked: the call's outcome, counted at the queue where it ended
--              (answering centre and tier, or the last queue it waited in) and in the
--              interval it entered that queue (its arrival when no hop was recorded);
--   answered_within_20s: answered with a caller wait (from arrival) of at most 20 s;
--   sums of wait, talk, hold and wrap-up seconds, from which ASA and AHT are derived.
--
-- Counters are incremented by row triggers that fire only on a row's first insert or on the
-- first time a call's outcome (or wrap-up) is set. The writer's upserts never re-set those
-- columns, so a replayed record can never be counted twice.

-- Where a call is counted; set once, when its outcome is first known.
ALTER TABLE calls
    ADD COLUMN stats_interval  timestamptz,
    ADD COLUMN stats_centre_id text,
    ADD COLUMN stats_tier      text;

CREATE TABLE call_intervals (
    interval_start      timestamptz NOT NULL,
    centre_id           text NOT NULL,      -- '' when a call ended before reaching a centre
    tier                text NOT NULL,
    offered             integer NOT NULL DEFAULT 0,
    escalated           integer NOT NULL DEFAULT 0,
    answered            integer NOT NULL DEFAULT 0,
    abandoned           integer NOT NULL DEFAULT 0,
    blocked             integer NOT NULL DEFAULT 0,
    answered_within_20s integer NOT NULL DEFAULT 0,
    answer_wait_s       double precision NOT NULL DEFAULT 0,  -- over answered calls
    abandon_wait_s      double precision NOT NULL DEFAULT 0,  -- over abandoned calls
    talk_s              double precision NOT NULL DEFAULT 0,  -- over answered calls
    hold_s              double precision NOT NULL DEFAULT 0,
    wrap_up_s           double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (interval_start, centre_id, tier)
);
CREATE INDEX call_intervals_centre ON call_intervals (centre_id, interval_start);

-- 15-minute buckets aligned on UTC; every Indonesian zone (UTC+7, +8, +9) is a whole number
-- of hours away, so they are aligned in local time too.
CREATE FUNCTION acd_interval(ts timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT date_bin('15 minutes', ts, TIMESTAMPTZ '2000-01-01 00:00:00+00')
$$;

CREATE FUNCTION call_intervals_add(
    p_at timestamptz, p_centre text, p_tier text,
    p_offered integer DEFAULT 0, p_escalated integer DEFAULT 0,
    p_answered integer DEFAULT 0, p_abandoned integer DEFAULT 0, p_blocked integer DEFAULT 0,
    p_within integer DEFAULT 0, p_answer_wait double precision DEFAULT 0,
    p_abandon_wait double precision DEFAULT 0, p_talk double precision DEFAULT 0,
    p_hold double precision DEFAULT 0, p_wrap double precision DEFAULT 0
) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO call_intervals AS ci (
        interval_start, centre_id, tier, offered, escalated, answered, abandoned, blocked,
        answered_within_20s, answer_wait_s, abandon_wait_s, talk_s, hold_s, wrap_up_s)
    VALUES (acd_interval(p_at), p_centre, p_tier, p_offered, p_escalated, p_answered,
            p_abandoned, p_blocked, p_within, p_answer_wait, p_abandon_wait, p_talk, p_hold,
            p_wrap)
    ON CONFLICT (interval_start, centre_id, tier) DO UPDATE SET
        offered = ci.offered + EXCLUDED.offered,
        escalated = ci.escalated + EXCLUDED.escalated,
        answered = ci.answered + EXCLUDED.answered,
        abandoned = ci.abandoned + EXCLUDED.abandoned,
        blocked = ci.blocked + EXCLUDED.blocked,
        answered_within_20s = ci.answered_within_20s + EXCLUDED.answered_within_20s,
        answer_wait_s = ci.answer_wait_s + EXCLUDED.answer_wait_s,
        abandon_wait_s = ci.abandon_wait_s + EXCLUDED.abandon_wait_s,
        talk_s = ci.talk_s + EXCLUDED.talk_s,
        hold_s = ci.hold_s + EXCLUDED.hold_s,
        wrap_up_s = ci.wrap_up_s + EXCLUDED.wrap_up_s
$$;

CREATE FUNCTION acd_tier_rank(tier text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE tier WHEN 'kabkota' THEN 0 WHEN 'province' THEN 1 WHEN 'national' THEN 2 END
$$;

-- A new hop: the call is offered to that queue, and it escalated out of the queue it was in.
CREATE FUNCTION call_hops_count() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    prev call_hops%ROWTYPE;
BEGIN
    PERFORM call_intervals_add(NEW.at, NEW.centre_id, NEW.tier, p_offered => 1);
    IF NEW.reason <> 'arrival' THEN
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

CREATE TRIGGER call_hops_stats AFTER INSERT ON call_hops
    FOR EACH ROW EXECUTE FUNCTION call_hops_count();

-- When a call's outcome is first set, decide once where it is counted: the answering tier
-- comes from the answered offer (an agent of a lower tier may pick up a call that was
-- already escalated), the interval from the hop into that queue.
CREATE FUNCTION calls_place_in_interval() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    entered timestamptz;
BEGIN
    IF NEW.outcome IS NULL OR NEW.stats_interval IS NOT NULL THEN
        RETURN NEW;
    END IF;
    IF NEW.outcome = 'answered' AND NEW.answer_tier IS NULL THEN
        SELECT o.tier INTO NEW.answer_tier FROM call_offers o
         WHERE o.call_id = NEW.call_id AND o.result = 'answered'
         ORDER BY o.ended_at DESC LIMIT 1;
        NEW.answer_tier := coalesce(NEW.answer_tier, NEW.tier);
    END IF;
    NEW.stats_tier := CASE WHEN NEW.outcome = 'answered' THEN NEW.answer_tier ELSE NEW.tier END;
    NEW.stats_centre_id := coalesce(NEW.centre_id, '');
    SELECT max(h.at) INTO entered FROM call_hops h
     WHERE h.call_id = NEW.call_id AND h.tier = NEW.stats_tier
       AND h.centre_id = NEW.stats_centre_id;
    NEW.stats_interval := acd_interval(coalesce(entered, NEW.arrived_at, NEW.ended_at));
    RETURN NEW;
END;
$$;

CREATE TRIGGER calls_place BEFORE INSERT OR UPDATE ON calls
    FOR EACH ROW EXECUTE FUNCTION calls_place_in_interval();

CREATE FUNCTION calls_count() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ended_now boolean;
    wrapped_now boolean;
    is_answered boolean;
BEGIN
    IF NEW.outcome IS NULL THEN
        RETURN NULL;
    END IF;
    ended_now := TG_OP = 'INSERT' OR OLD.outcome IS NULL;
    wrapped_now := NOT ended_now AND NEW.wrap_up_s IS NOT NULL AND OLD.wrap_up_s IS NULL;
    is_answered := NEW.outcome = 'answered';
    IF ended_now THEN
        PERFORM call_intervals_add(
            NEW.stats_interval, NEW.stats_centre_id, NEW.stats_tier,
            p_answered => is_answered::integer,
            p_abandoned => (NEW.outcome = 'abandoned')::integer,
            p_blocked => (NEW.outcome = 'blocked')::integer,
            p_within => (is_answered AND NEW.wait_s <= 20)::integer,
            p_answer_wait => CASE WHEN is_answered THEN NEW.wait_s ELSE 0 END,
            p_abandon_wait => CASE WHEN NEW.outcome = 'abandoned' THEN NEW.wait_s ELSE 0 END,
            p_talk => CASE WHEN is_answered THEN NEW.talk_s ELSE 0 END,
            p_hold => CASE WHEN is_answered THEN NEW.hold_s ELSE 0 END,
            p_wrap => CASE WHEN is_answered THEN coalesce(NEW.wrap_up_s, 0) ELSE 0 END);
    ELSIF wrapped_now AND is_answered THEN
        PERFORM call_intervals_add(
            NEW.stats_interval, NEW.stats_centre_id, NEW.stats_tier, p_wrap => NEW.wrap_up_s);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER calls_stats AFTER INSERT OR UPDATE ON calls
    FOR EACH ROW EXECUTE FUNCTION calls_count();

-- Roll the 15-minute rows up to any date_trunc unit ('hour', 'day', 'week', 'month', ...)
-- in a given time zone (WIB by default; WITA and WIT centres pass their own), with the
-- figures the reports show:
--   service_level = answered within 20 s / (answered + abandoned)
--   abandon_rate  = abandoned / (answered + abandoned)
--   asa_s         = average caller wait of answered calls
--   aht_s         = average talk (hold included) plus wrap-up of answered calls
CREATE FUNCTION call_stats(
    p_unit text, p_from timestamptz, p_to timestamptz, p_tz text DEFAULT 'Asia/Jakarta'
) RETURNS TABLE (
    period_start timestamptz, centre_id text, tier text,
    offered bigint, escalated bigint, answered bigint, abandoned bigint, blocked bigint,
    answered_within_20s bigint, service_level double precision,
    abandon_rate double precision, asa_s double precision, aht_s double precision
)
LANGUAGE sql STABLE AS $$
    SELECT period_start, centre_id, tier, offered, escalated, answered, abandoned, blocked,
           within,
           within::double precision / nullif(answered + abandoned, 0),
           abandoned::double precision / nullif(answered + abandoned, 0),
           answer_wait / nullif(answered, 0),
           (talk + wrap) / nullif(answered, 0)
      FROM (
        SELECT CASE WHEN p_unit = '15min' THEN ci.interval_start
                    ELSE date_trunc(p_unit, ci.interval_start, p_tz) END AS period_start,
               ci.centre_id, ci.tier,
               sum(ci.offered) AS offered, sum(ci.escalated) AS escalated,
               sum(ci.answered) AS answered, sum(ci.abandoned) AS abandoned,
               sum(ci.blocked) AS blocked, sum(ci.answered_within_20s) AS within,
               sum(ci.answer_wait_s) AS answer_wait, sum(ci.talk_s) AS talk,
               sum(ci.wrap_up_s) AS wrap
          FROM call_intervals ci
         WHERE ci.interval_start >= p_from AND ci.interval_start < p_to
         GROUP BY 1, 2, 3
      ) AS rolled
$$;

CREATE VIEW call_stats_15min AS
    SELECT * FROM call_stats('15min', '-infinity', 'infinity');
CREATE VIEW call_stats_hourly AS
    SELECT * FROM call_stats('hour', '-infinity', 'infinity');
CREATE VIEW call_stats_daily AS
    SELECT * FROM call_stats('day', '-infinity', 'infinity');
CREATE VIEW call_stats_monthly AS
    SELECT * FROM call_stats('month', '-infinity', 'infinity');
