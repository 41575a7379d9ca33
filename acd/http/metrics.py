"""Prometheus metrics: one `CollectorRegistry` per daemon (tests run several at once).

Everything a series says of the calls, agents and centres is the read model's
(acd.service.live: its call counters since the start, its rolling figures, the core's state
now), read at scrape time; this module only names and shapes it. Of its own it keeps the
histograms, fed by the records as they flow (`Metrics.observe`), and the alerts
(`Metrics.alert`), reloads and unreadable recordings. Names:

| metric | labels | what |
|---|---|---|
| acd117_calls_offered_total | centre, tier | a call joined that queue (arrival or escalation) |
| acd117_calls_answered_total | centre, tier | answered there |
| acd117_calls_abandoned_total | centre, tier | the caller hung up while waiting there |
| acd117_calls_blocked_total | centre, tier | listed nuisance callers who hung up unanswered |
| acd117_calls_escalated_total | centre, tier | escalated there from a queue below |
| acd117_call_wait_seconds | outcome, tier | caller's wait to answer or hang-up, at that tier |
| acd117_ring_answer_seconds | tier | how long an agent's phone rang before it was picked up |
| acd117_calls_waiting | centre, tier | calls waiting now (queued or ringing an agent) |
| acd117_longest_wait_seconds | centre, tier | the longest wait among them |
| acd117_calls_in_progress | state | every call the core holds, by state |
| acd117_agents | centre, state | agents by state (logged_out included) |
| acd117_agents_logged_in | centre | agents logged in |
| acd117_centre_open | centre | 1 while the centre's opening hours say open |
| acd117_service_level_ratio | centre | answered in time (SERVICE_LEVEL_S) over handled, 1 h |
| acd117_service_level_calls | centre | calls that figure is made of |
| acd117_abandon_rate_ratio | centre | the wallboard's abandon rate (short ones out), 1 h |
| acd117_abandon_rate_calls | centre | calls that figure is made of |
| acd117_alerts_total | kind | alerts raised by the core (national_long_wait, ...) |
| acd117_component_up | component | ari, ami, store: 1 when connected |
| acd117_store_backlog_records | | records not yet in PostgreSQL (queue + spool) |
| acd117_store_spool_bytes | | size of the spool on disk |
| acd117_store_dropped_records_total | | records lost (the spool's disk failed) |
| acd117_records_rejected_total | | kept in the spool's rejected.jsonl, not the database |
| acd117_recordings_unreadable_total | | recording files acd117 could not read (no row stored) |
| acd117_event_loop_lag_seconds | | how late the event loop ran a 0.25 s timer, worst of 10 s |
| acd117_config_reloads_total | result | call-flow reloads, applied or rejected |
| acd117_build_info | version, python | 1; the running acd117's version |
| process_*, python_info | | the standard process (CPU, memory, files) and platform ones |
"""

from __future__ import annotations

import asyncio
import platform
import time
from collections import deque
from collections.abc import Callable, Iterator
from importlib import metadata
from typing import get_args

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from acd.service.callcounts import CALL_COUNTERS, ended_tier
from acd.service.corestate import AGENT_STATES
from acd.service.health import Health
from acd.service.live import LiveFigures
from acd.service.ports import JournalStats
from acd.vocabulary import records as rec
from acd.vocabulary.alerts import Alert
from acd.vocabulary.tiers import Tier

disable_created_metrics()  # type: ignore[no-untyped-call]  # the _created series only add noise to every counter

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LAG_WINDOW_S = 10.0  # the lag gauge shows the worst of the last 10 s, so scrapes see stalls
WAIT_BUCKETS = (5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200)
RING_BUCKETS = (1, 2, 3, 5, 8, 10, 15, 20, 30)
# Every kind of `Alert` the core raises (tests/ops/test_metrics.py keeps this complete).
ALERT_KINDS = ("national_long_wait", "centre_unstaffed", "nuisance_call", "adoption_conflict",
               "login_rejected", "login_refused", "login_not_restored", "config_reloaded")
RELOAD_RESULTS = ("applied", "invalid", "refused")


def build_info() -> dict[str, str]:
    try:
        version = metadata.version("acd117")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        version = "unknown"
    return {"version": version, "python": platform.python_version()}


class Metrics:
    def __init__(self, live: LiveFigures, health: Health,
                 store_stats: Callable[[], JournalStats | None] = lambda: None,
                 clock: Callable[[], float] = time.time) -> None:
        self.live = live
        self.health = health
        self.store_stats = store_stats
        self.clock = clock
        self.loop_lag_s = 0.0
        r = self.registry = CollectorRegistry(auto_describe=True)
        # Per centre and tier: plain sums exported by a collector, not Counter children,
        # because a scrape at national scale (553 centres, each at 0 from the start) spends
        # most of its time in the children's per-sample machinery.
        self.calls = _CallCounters(self)
        r.register(self.calls)
        self.wait = Histogram("acd117_call_wait_seconds",
                              "Caller wait from arrival to answer or hang-up",
                              ("outcome", "tier"), buckets=WAIT_BUCKETS, registry=r)
        self.ring = Histogram("acd117_ring_answer_seconds",
                              "Ringing time before an agent picked up", ("tier",),
                              buckets=RING_BUCKETS, registry=r)
        self.alerts = Counter("acd117_alerts", "Alerts raised by the core", ("kind",),
                              registry=r)
        self.reloads = Counter("acd117_config_reloads", "Call-flow reloads", ("result",),
                               registry=r)
        self.recordings_unreadable = Counter(
            "acd117_recordings_unreadable",
            "Finished recordings whose file could not be read (no row; kept in rejected.jsonl)",
            registry=r)
        r.register(_StateCollector(self))
        # The process's CPU, memory and open files, and the Python it runs on: a registry of
        # our own does not get the default registry's collectors.
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        Info("acd117_build", "The running acd117", registry=r).info(build_info())
        self._initialise()

    def _initialise(self) -> None:
        """Export every label set we know of at 0 before anything happens.

        A counter series that appears at its first increment is invisible to `increase()`
        and `rate()` (they need two samples), so the first national_long_wait after a
        restart would raise no alert. The per-centre call counters, whose centres come and
        go with reloads, do the same at each scrape (`_CallCounters`)."""
        for kind in ALERT_KINDS:
            self.alerts.labels(kind)
        for result in RELOAD_RESULTS:
            self.reloads.labels(result)
        for tier in Tier:
            self.ring.labels(tier.value)
        for outcome in get_args(rec.Outcome):
            for tier in Tier:
                self.wait.labels(outcome, tier.value)

    def observe(self, r: rec.Record) -> None:
        """The histograms (the call counters are the read model's, fed beside this)."""
        if isinstance(r, rec.CallEnded):
            self.wait.labels(r.outcome, ended_tier(r)).observe(r.wait_s)
        elif isinstance(r, rec.OfferEnded) and r.result == "answered":
            self.ring.labels(r.tier.value).observe(max(0.0, r.ended_at - r.offered_at))

    def alert(self, alert: Alert) -> None:
        self.alerts.labels(alert.kind).inc()

    def recording_unreadable(self) -> None:
        self.recordings_unreadable.inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    async def watch_loop_lag(self, every_s: float = 0.25) -> None:
        """Event-loop lag: how much later than asked a short sleep returns."""
        loop = asyncio.get_running_loop()
        recent: deque[tuple[float, float]] = deque()
        while True:
            start = loop.time()
            await asyncio.sleep(every_s)
            now = loop.time()
            recent.append((now, max(0.0, now - start - every_s)))
            while recent[0][0] < now - LAG_WINDOW_S:
                recent.popleft()
            self.loop_lag_s = max(lag for _, lag in recent)


class _CallCounters(Collector):
    """acd117_calls_{offered,...}_total by (centre, tier): every centre of the call flows in
    force at 0 or more, and any other pair that has counted (a centre since removed)."""

    def __init__(self, metrics: Metrics) -> None:
        self.m = metrics

    def collect(self) -> Iterator[CounterMetricFamily]:
        live = self.m.live
        known = [(c.id, c.tier) for c in live.centres(self.m.clock())]
        for name, help_ in CALL_COUNTERS.items():
            family = CounterMetricFamily(f"acd117_calls_{name}", help_,
                                         labels=("centre", "tier"))
            counts = live.counts.counts[name]
            # nothing escalates to the lowest tier: no series that can never count
            shown = [k for k in known if name != "escalated" or k[1] != Tier.KABKOTA.value]
            for key in shown:
                family.add_metric(key, counts.get(key, 0.0))
            shown_set = set(shown)
            for key, n in counts.items():
                if key not in shown_set:  # a centre removed by a reload, or renamed
                    family.add_metric(key, n)
            yield family


class _StateCollector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self.m = metrics

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        m = self.m
        live = m.live
        now = m.clock()
        centres = live.centres(now)
        waiting = GaugeMetricFamily("acd117_calls_waiting", "Calls waiting now",
                                    labels=("centre", "tier"))
        longest = GaugeMetricFamily("acd117_longest_wait_seconds",
                                    "Longest wait among the calls waiting now",
                                    labels=("centre", "tier"))
        rows = live.rows(now)
        for centre in centres:
            row = rows[centre.id]
            waiting.add_metric((centre.id, centre.tier), row.waiting)
            longest.add_metric((centre.id, centre.tier), row.longest_wait_s)
        yield waiting
        yield longest

        states = GaugeMetricFamily("acd117_calls_in_progress", "Calls held by the core",
                                   labels=("state",))
        for state, n in live.calls_by_state().items():
            states.add_metric((state,), n)
        yield states

        agents = GaugeMetricFamily("acd117_agents", "Agents by state",
                                   labels=("centre", "state"))
        logged_in = GaugeMetricFamily("acd117_agents_logged_in", "Agents logged in",
                                      labels=("centre",))
        counts = live.agents_by_state()
        for centre in centres:
            total = 0
            for state in AGENT_STATES:
                n = counts[(centre.id, state)]
                agents.add_metric((centre.id, state), n)
                if state != "logged_out":
                    total += n
            logged_in.add_metric((centre.id,), total)
        yield agents
        yield logged_in

        open_ = GaugeMetricFamily("acd117_centre_open", "1 while the centre is open",
                                  labels=("centre",))
        configured = GaugeMetricFamily("acd117_centre_agents_configured",
                                       "Agents on the centre's roster", labels=("centre",))
        for centre in centres:
            open_.add_metric((centre.id,), 1.0 if centre.open else 0.0)
            configured.add_metric((centre.id,), centre.roster)
        yield open_
        yield configured

        sl = GaugeMetricFamily("acd117_service_level_ratio",
                               "Answered within the threshold over answered + abandoned "
                               "(short abandons out), last hour", labels=("centre",))
        sl_calls = GaugeMetricFamily("acd117_service_level_calls",
                                     "Calls counted in acd117_service_level_ratio",
                                     labels=("centre",))
        rolling = live.rolling_service_level(now)
        for centre in centres:
            level, n = rolling.get(centre.id, (1.0, 0))
            sl.add_metric((centre.id,), level)
            sl_calls.add_metric((centre.id,), n)
        yield sl
        yield sl_calls

        ab = GaugeMetricFamily("acd117_abandon_rate_ratio",
                               "Abandoned over answered + abandoned (short abandons out), "
                               "last hour", labels=("centre",))
        ab_calls = GaugeMetricFamily("acd117_abandon_rate_calls",
                                     "Calls counted in acd117_abandon_rate_ratio",
                                     labels=("centre",))
        abandons = live.rolling_abandon_rate(now)
        for centre in centres:
            rate, n = abandons.get(centre.id, (0.0, 0))
            ab.add_metric((centre.id,), rate)
            ab_calls.add_metric((centre.id,), n)
        yield ab
        yield ab_calls

        up = GaugeMetricFamily("acd117_component_up", "1 when the connection is up",
                               labels=("component",))
        stats = m.store_stats()
        components = dict(m.health.items())
        for name in ("ari", "ami"):
            comp = components.get(name)
            up.add_metric((name,), 1.0 if comp is not None and comp.up else 0.0)
        if stats is not None:
            up.add_metric(("store",), 1.0 if stats.connected else 0.0)
            # The journal: 0 while records are only in memory (the spool cannot be written).
            up.add_metric(("spool",), 1.0 if stats.durable else 0.0)
        yield up

        backlog = GaugeMetricFamily("acd117_store_backlog_records",
                                    "Records not yet written to PostgreSQL")
        spool = GaugeMetricFamily("acd117_store_spool_bytes", "Bytes in the store's spool")
        dropped = CounterMetricFamily("acd117_store_dropped_records",
                                      "Records lost because the spool could not be written")
        rejected = CounterMetricFamily(
            "acd117_records_rejected",
            "Records kept in the spool's rejected.jsonl instead of the database")
        if stats is not None:
            backlog.add_metric((), stats.backlog)
            spool.add_metric((), stats.spool_bytes)
            dropped.add_metric((), stats.dropped_records)
            rejected.add_metric((), stats.rejected_records)
        yield backlog
        yield spool
        yield dropped
        yield rejected

        lag = GaugeMetricFamily(
            "acd117_event_loop_lag_seconds",
            "How late the event loop ran a short timer (worst of the last 10 s)")
        lag.add_metric((), m.loop_lag_s)
        yield lag
