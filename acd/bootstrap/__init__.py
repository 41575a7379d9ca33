"""The acd117 daemon: one `bootstrap(settings)` wires everything, nothing connects before
`start()`.

    config (YAML call flows) -> Acd (the core) -> Switchboard <- telephony (Asterisk
    adapters, or the simulated callers and agents) ; records -> LiveSink (live figures,
    metrics) -> StoreWriter (PostgreSQL, spooled) ; HTTP (API, wallboard, /metrics)

Its parts, by what they wire: `telephony.py` (the simulated people or the Asterisk
adapters, with the recordings), `store.py` (the writer, the database and the users when
there is a DSN), `http.py` (serving the API once started) and `daemon.py` (the `Daemon`:
starting, restoring and stopping, every task under a `Supervisor`).

The telephony seam: `bootstrap(settings, telephony=...)` takes any `Telephony`
(acd.service.ports): it is given the switchboard's `post` to send events, the supervisor
runs its `run()`, its `supervision` serves the supervisors' listen/whisper/barge and its
`connections()` are watched for /ready and the metrics.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from acd.bootstrap import telephony as phones
from acd.bootstrap.daemon import Daemon
from acd.bootstrap.errors import StartupError
from acd.bootstrap.store import store
from acd.domain.core import Acd
from acd.http.metrics import Metrics
from acd.service.health import Health
from acd.service.live import LiveFigures, LiveSink
from acd.service.ports import Telephony
from acd.service.settings import Settings
from acd.service.switchboard import Switchboard
from acd.store.logins import LoginKeeper
from config.loader import load_flows
from config.regions import load_regions

__all__ = ["Daemon", "StartupError", "bootstrap"]


def bootstrap(settings: Settings, telephony: Telephony | None = None, *,
              simulate: bool = False, clock: Callable[[], float] = time.time,
              time_scale: float = 1.0, seed: int | None = None) -> Daemon:
    """Build the daemon from its settings; raises `config.loader.ConfigError` for bad call
    flows and `StartupError` when there is no telephony to run with."""
    flows = load_flows(settings.config)
    regions = load_regions()
    health = Health()
    acd = Acd(flows, regions, ids=lambda: f"o-{uuid.uuid4().hex}")
    db = store(settings, clock)
    writer = db.writer
    live = LiveFigures(acd, service_level_s=settings.service_level_s,
                       short_abandon_s=settings.short_abandon_s, clock=clock)
    metrics = Metrics(live, health, (lambda: writer.stats) if writer is not None else
                      (lambda: None), clock=clock)
    if telephony is None and simulate:
        telephony = phones.simulated(settings, flows, health, seed=seed,
                                     time_scale=time_scale)
    elif telephony is None:
        telephony = phones.asterisk(settings, acd, writer, metrics)
    observers = [live.observe, metrics.observe]
    # Who is logged in where, kept across restarts (the demo's agents log in by themselves).
    logins = None if simulate else LoginKeeper(settings.spool_dir, settings.dsn)
    if logins is not None:
        observers.append(logins.observe)
    sink = LiveSink(writer, observers)
    switchboard = Switchboard(acd, telephony, sink, clock=clock, on_alert=metrics.alert)
    telephony.attach(switchboard.post)
    supervision = telephony.supervision
    return Daemon(settings=settings, flows=flows, regions=regions, acd=acd,
                  switchboard=switchboard, telephony=telephony, health=health, live=live,
                  metrics=metrics, writer=writer, users=db.users, database=db.database,
                  supervision=supervision,
                  logins=logins)
