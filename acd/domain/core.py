"""The routing and escalation core: events and `now` in, commands and records out.

Synchronous and deterministic: no asyncio, no I/O, no wall clock. The driver (the daemon,
the simulator, a test) passes the time with every event and asks `next_due()` when to call
`advance()`; offer ids come from the injected `ids`. Due timers are always fired before an
event is handled, each at its own due time, so a driver that wakes late still gets exactly
the result of one that woke on time.

What the core guarantees (checked by the stateful tests in tests/test_core_invariants.py):
an agent never has two calls; a call is in one state until it ends; a waiting call is
escalated no later than its deadline; only a hang-up ends a call; higher priority first and
first come, first served within a priority class.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from acd.domain.agents import Agents
from acd.domain.arrivals import Arrivals
from acd.domain.offers import Offers
from acd.domain.parties import Parties
from acd.domain.reload import Reload, ReloadRefused
from acd.domain.state import Output
from acd.domain.timers import TimerKind, Timers
from acd.domain.transfers import Transfers
from acd.domain.waiting import Waiting
from acd.vocabulary import events as ev
from config.models import CallFlows
from config.regions import RegionTable

__all__ = ["Acd", "Output", "ReloadRefused"]


class Acd(Arrivals, Waiting, Offers, Agents, Transfers, Parties, Reload):
    """The one entry point: `handle` events, `advance` the clock, `reconfigure`. The parts
    live in acd.domain.arrivals, waiting, offers, agents, transfers, parties and reload."""

    def __init__(self, flows: CallFlows, regions: RegionTable, ids: Callable[[], str]) -> None:
        self.regions = regions
        self._ids = ids
        self._timers = Timers()
        self.calls = {}
        self.agents = {}
        self.offers = {}
        self.queues = {}
        self.unreachable = set()  # devices known to be unregistered or unreachable
        self._device_agent = {}
        self._last_call = OrderedDict()  # for the repeat-caller class
        self.nuisance_listed = {}  # kept across reloads: the supervisors', not the flows'
        self.outside_legs = {}
        self.party_offers = {}
        self._call_seq = 0
        self._offer_seq = 0
        self._out = []
        self._adopt_flows(flows)
        self._handlers = {
            ev.CallArrived: self._on_call_arrived,
            ev.CallAdopted: self._on_call_adopted,
            ev.PromptFinished: self._on_prompt_finished,
            ev.CallerHungUp: self._on_caller_hung_up,
            ev.CallHandedOff: self._on_call_handed_off,
            ev.RingAnswered: self._on_ring_answered,
            ev.RingFailed: self._on_ring_failed,
            ev.AgentHungUp: self._on_agent_hung_up,
            ev.PartyAgentHungUp: self._on_party_agent_hung_up,
            ev.HoldStarted: self._on_hold_started,
            ev.HoldEnded: self._on_hold_ended,
            ev.TransferRequested: self._on_transfer_requested,
            ev.ConsultRequested: self._on_consult_requested,
            ev.ConsultEnded: self._on_consult_ended,
            ev.HoldRequested: self._on_hold_requested,
            ev.MuteRequested: self._on_mute_requested,
            ev.OutsideAnswered: self._on_outside_answered,
            ev.OutsideFailed: self._on_outside_failed,
            ev.OutsideHungUp: self._on_outside_hung_up,
            ev.AgentLoggedIn: self._on_agent_logged_in,
            ev.AgentLoginRestored: self._on_agent_login_restored,
            ev.AgentLoggedOut: self._on_agent_logged_out,
            ev.AgentPaused: self._on_agent_paused,
            ev.AgentUnpaused: self._on_agent_unpaused,
            ev.WrapUpDone: self._on_wrap_up_done,
            ev.CallClassified: self._on_call_classified,
            ev.NuisanceListed: self._on_nuisance_listed,
            ev.DeviceStateChanged: self._on_device_state_changed,
        }
        self._timer_handlers = {
            TimerKind.WELCOME_GUARD: self._on_welcome_guard,
            TimerKind.ESCALATE: self._on_escalate,
            TimerKind.ANNOUNCE: self._on_announce,
            TimerKind.RING_GUARD: self._on_ring_guard,
            TimerKind.WRAP_UP: self._on_wrap_up_timer,
            TimerKind.NATIONAL_ALERT: self._on_national_alert,
            TimerKind.OUTSIDE_GUARD: self._on_outside_guard,
        }

    def handle(self, event: ev.Event, now: float) -> list[Output]:
        """Fire the timers due by `now`, then apply `event`; return what to do and record."""
        out = self._out = []
        self._fire_due(now)
        self._handlers[type(event)](event, now)
        self._fire_due(now)  # e.g. a deadline already due when the call joined its tier
        return out

    def advance(self, now: float) -> list[Output]:
        out = self._out = []
        self._fire_due(now)
        return out

    def next_due(self) -> float | None:
        return self._timers.next_due()

    def agent_at(self, device: str) -> str | None:
        """The agent logged in at this phone, if any."""
        return self._device_agent.get(device)
