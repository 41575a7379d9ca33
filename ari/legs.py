"""The one index of the Stasis app's legs: which channel is which call's caller leg, which
is an agent's leg (one per offer), the bridge of each call, and whose each playback is.

* a call's id is its caller channel id (the channel that entered `Stasis(acd117,inbound,..)`);
* an agent leg is originated with `channelId=<offer id>`, so its channel id is the offer id
  (also the leg of another centre's agent consulted on a call: `AgentLeg.party`);
* an outside leg (a transfer to a number) is originated with `channelId=<leg id>`;
* an agent's phone's own second call during a call (`Stasis(acd117,consult,<code>)`, the
  first half of the phone's attended transfer) is that agent leg's `consult`;
* a call gets one mixing bridge (`acd117-<call id>`) when it is first connected, kept
  until the call ends: a caller taken out of it (hold, a transfer) comes back to it;
* every playback gets an id chosen here, mapped back to (call, prompt).

Snoop and supervisor channels are the monitor's (`ari.supervisor`), feature calls the
feature dialogs' (`ari.feature_calls`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from acd.vocabulary.events import Ingress
from ari.models import AriEvent, Channel


@dataclass(slots=True)
class CallerLeg:
    call_id: str
    caller: str
    ingress: Ingress
    arrived_at: float
    up: bool
    bridge_id: str | None = None
    moh: bool = False
    playbacks: dict[str, str] = field(default_factory=dict)  # playback id -> prompt
    pending_prompts: int = 0  # PlayPrompt accepted, request not answered yet
    offers: set[str] = field(default_factory=set)
    connected_offer: str | None = None  # the agent's offer (or the outside leg) it talks to
    held: bool = False  # out of its bridge on music: hold, a consultation
    in_stasis: bool = True
    core_ended: bool = False  # the core asked for HangUp(caller): report nothing more
    handed_off: bool = False  # sent back to the dialplan
    recording: str | None = None
    facts_saved: bool = False  # ACD117_ARRIVED_AT written
    arriving: bool = False  # SIP headers being read: the core has not heard of it yet


@dataclass(slots=True)
class PhoneConsult:
    """A second call the agent's phone made during its 117 call (`ari.phone_consults`):
    the agent's side of a consultation acd117 carries out with the code dialled."""

    channel_id: str
    protocol_id: str  # its SIP Call-ID: what the phone's attended REFER names to replace
    code: str
    accepted: bool = False  # the core dials (or rings) the destination
    refer_pending: bool = False  # the phone's REFER came on this call, not on the first


@dataclass(slots=True)
class AgentLeg:
    offer_id: str
    channel_id: str
    call_id: str
    agent_id: str
    device: str
    answered: bool = False
    answered_at: float | None = None
    stopped: bool = False  # ended by the core (StopRinging / HangUp): report nothing more
    reported: bool = False  # the final RingFailed / AgentHungUp went out
    ended: bool = False
    refer_pending: bool = False  # the phone's Transfer (REFER) waits for acd117's answer
    # Rung as a third party (another centre's agent consulted): not the call's agent until
    # the call is handed to it (LeaveCall to_offer); its hang-up is the party's.
    party: bool = False
    consult: PhoneConsult | None = None  # the phone's own second call, if any


@dataclass(slots=True)
class OutsideLeg:
    """A call transferred to an outside number: the leg ringing (then talking to) it."""

    leg_id: str  # also its channel id
    call_id: str
    answered: bool = False
    stopped: bool = False  # ended by the core (HangUp outside): report nothing more
    reported: bool = False
    originating: bool = False  # POST /channels not answered yet: Asterisk may not list it


class Legs:
    """Caller legs by call id, agent legs by offer id and by channel id, outside legs and
    playbacks by id."""

    def __init__(self) -> None:
        self.calls: dict[str, CallerLeg] = {}
        self.offers: dict[str, AgentLeg] = {}
        self.agent_channels: dict[str, AgentLeg] = {}
        self.outside: dict[str, OutsideLeg] = {}  # by leg id (= channel id)
        self.consults: dict[str, AgentLeg] = {}  # a phone's second call's channel -> agent
        self.playbacks: dict[str, tuple[str, str]] = {}  # playback id -> (call id, prompt)
        self._ids = itertools.count(1)

    def new_playback_id(self) -> str:
        return f"acd117-pb-{next(self._ids)}"

    # --- callers -----------------------------------------------------------------------

    def add_call(self, leg: CallerLeg) -> None:
        self.calls[leg.call_id] = leg

    def call(self, call_id: str) -> CallerLeg | None:
        return self.calls.get(call_id)

    def drop_call(self, leg: CallerLeg) -> None:
        """Forget the call and its playbacks (its agent legs are the caller's to drop)."""
        for pid in list(leg.playbacks):
            self.playbacks.pop(pid, None)
        self.calls.pop(leg.call_id, None)

    # --- agents ------------------------------------------------------------------------

    def add_agent(self, agent: AgentLeg) -> None:
        self.offers[agent.offer_id] = agent
        self.agent_channels[agent.channel_id] = agent
        leg = self.calls.get(agent.call_id)
        if leg is not None:
            leg.offers.add(agent.offer_id)

    def agent_channel_is(self, agent: AgentLeg, channel_id: str) -> None:
        """Asterisk gave the originated leg another channel id than the one asked for."""
        if channel_id != agent.channel_id:
            agent.channel_id = channel_id
            self.agent_channels[channel_id] = agent

    def agent_at(self, channel_id: str) -> AgentLeg | None:
        return self.agent_channels.get(channel_id)

    def offer(self, offer_id: str) -> AgentLeg | None:
        return self.offers.get(offer_id)

    def drop_agent(self, agent: AgentLeg) -> CallerLeg | None:
        """Forget the agent leg; its call, if still known."""
        self.offers.pop(agent.offer_id, None)
        self.agent_channels.pop(agent.offer_id, None)
        self.agent_channels.pop(agent.channel_id, None)
        leg = self.calls.get(agent.call_id)
        if leg is not None:
            leg.offers.discard(agent.offer_id)
        return leg

    def answered_agents(self, call_id: str) -> list[AgentLeg]:
        """The agent legs of a call that answered and are still up."""
        return [
            a for a in self.offers.values()
            if a.call_id == call_id and a.answered and not a.ended
        ]

    def live_agents(self, leg: CallerLeg) -> list[AgentLeg]:
        return [a for o in leg.offers if (a := self.offers.get(o)) is not None and not a.ended]

    def connected_agent(self, call_id: str) -> AgentLeg | None:
        leg = self.calls.get(call_id)
        if leg is None or leg.connected_offer is None:
            return None
        return self.offers.get(leg.connected_offer)

    # --- lookups -----------------------------------------------------------------------

    def call_of(self, event: AriEvent) -> str | None:
        """The caller channel an event concerns, if it is one of ours."""
        channel = getattr(event, "channel", None)
        if isinstance(channel, Channel):
            if channel.id in self.calls:
                return channel.id
            agent = self.agent_channels.get(channel.id)
            if agent is not None:
                return agent.call_id
            outside = self.outside.get(channel.id)
            if outside is not None:
                return outside.call_id
        playback = getattr(event, "playback", None)
        if playback is not None and playback.id in self.playbacks:
            return self.playbacks[playback.id][0]
        return None
