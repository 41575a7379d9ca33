"""Whole 117 calls through the real daemon parts: the routing core, the switchboard and the
Asterisk adapters, against the in-process Asterisk (which checks every request against the
ARI documents and plays the event sequences recorded from Asterisk 22)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from acd.domain.core import Acd
from acd.service.switchboard import Switchboard
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from acd.vocabulary.tiers import Tier
from ari.events import Backoff
from ari.runtime import AsteriskSettings
from ari.telephony import AsteriskTelephony
from config.models import CallFlows
from config.regions import load_regions
from tests.fakes.asterisk import FakeAsterisk
from tests.support import agent, build_flows, centre, queue

BANDUNG = [("X-Cell-Region", "32.73")]
# What asterisk/extensions.conf passes as Stasis arguments: these two headers only.
DIALPLAN_HEADERS = [("P-Asserted-Identity", ""), ("P-Access-Network-Info", "")]


def flows() -> CallFlows:
    q = [queue(ring_timeout_s=1, wrap_up_s=0.2)]
    return build_flows(
        centres=[centre("bdg", "32.73", queues=q), centre("jabar", "32", queues=q),
                 centre("bnpb", "ID", queues=q)],
        agents=[agent("1001", "bdg"), agent("1002", "bdg"), agent("2001", "jabar"),
                agent("9001", "bnpb")],
        escalation={"kabkota": {"after_s": 0.6}, "province": {"after_s": 0.6},
                    "national": {"alert_after_s": 30}},
    )


@dataclass
class Records:
    got: list[rec.Record] = field(default_factory=list)

    def submit(self, record: rec.Record) -> None:
        self.got.append(record)

    def ended(self) -> list[rec.CallEnded]:
        return [r for r in self.got if isinstance(r, rec.CallEnded)]

    def hops(self, call_id: str) -> list[Tier]:
        return [r.tier for r in self.got if isinstance(r, rec.TierHop) and r.call_id == call_id]


class Daemon:
    """The core, the switchboard and the Asterisk side, as `acd117 run` wires them."""

    def __init__(self, peer: FakeAsterisk, records: Records) -> None:
        settings = AsteriskSettings(ari_url=peer.ari_url, ari_user=peer.ari_user,
                                    ari_password=peer.ari_password, ami_port=peer.ami_port,
                                    ami_user=peer.ami_user, ami_secret=peer.ami_secret)
        self.flows = flows()
        self.telephony = AsteriskTelephony(settings, lambda: self.flows, moh_grace_s=0.01)
        self.telephony.side.stream.backoff = Backoff(initial=0.01, maximum=0.05)
        ids = iter(range(1, 10**6))
        self.acd = Acd(self.flows, load_regions(), ids=lambda: f"o{next(ids)}-{id(self)}")
        self.board = Switchboard(self.acd, self.telephony, records)
        self.telephony.attach(self.board.post)
        self._tasks: list[asyncio.Task[Any]] = []

    async def start(self) -> Daemon:
        self._tasks = [asyncio.create_task(self.board.run()),
                       asyncio.create_task(self.telephony.run())]
        await asyncio.wait_for(self.telephony.side.stream.connected.wait(), 2)
        return self

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.board.drain()

    def login(self, *agents: str) -> None:
        for a in agents:
            self.board.post(ev.AgentLoggedIn(a, f"PJSIP/{a}"))


@pytest.fixture
async def peer() -> AsyncIterator[FakeAsterisk]:
    async with FakeAsterisk(time_scale=0.3) as fake:
        yield fake


@pytest.fixture
async def records() -> Records:
    return Records()


@pytest.fixture
async def daemon(peer: FakeAsterisk, records: Records) -> AsyncIterator[Daemon]:
    d = await Daemon(peer, records).start()
    yield d
    await d.stop()


def bridged(peer: FakeAsterisk, call: str) -> list[str]:
    bridge = peer.bridges.get(f"acd117-{call}")
    return sorted(bridge.channels) if bridge else []


def rung(peer: FakeAsterisk) -> list[str]:
    return [r.query["endpoint"] for r in peer.requests_to("POST", "/ari/channels")]


async def test_a_call_is_answered_at_its_regency_recorded_and_ends_cleanly(
        peer: FakeAsterisk, daemon: Daemon, records: Records) -> None:
    peer.register("PJSIP/1001")
    daemon.login("1001")
    call = await peer.incoming_call(headers=BANDUNG)
    assert call
    await peer.wait_for(lambda: len(bridged(peer, call)) == 2, what="caller and agent bridged")
    await peer.wait_for(lambda: peer.bridges[f"acd117-{call}"].recording == call,
                        what="recording named by the call id")
    await peer.caller_hangs_up(call)
    await peer.wait_for(lambda: records.ended(), what="call record")
    [cdr] = records.ended()
    assert (cdr.outcome, cdr.agent_id, cdr.answered_tier) == ("answered", "1001", Tier.KABKOTA)
    await peer.wait_for(lambda: not peer.bridges, what="bridge gone")
    assert peer.rejected == [], "every request was one the ARI documents allow"


async def test_an_unanswered_call_escalates_to_the_province_then_to_national(
        peer: FakeAsterisk, daemon: Daemon, records: Records) -> None:
    peer.register("PJSIP/1001", answer="manual")  # rings, nobody picks up
    peer.register("PJSIP/2001", answer="manual")
    peer.register("PJSIP/9001")
    daemon.login("1001", "2001", "9001")
    call = await peer.incoming_call(headers=BANDUNG)
    assert call
    await peer.wait_for(lambda: len(bridged(peer, call)) == 2, 5, "answered at national")
    assert records.hops(call) == [Tier.KABKOTA, Tier.PROVINCE, Tier.NATIONAL]
    assert rung(peer)[:2] == ["PJSIP/1001", "PJSIP/2001"]
    answered = [r for r in records.got if isinstance(r, rec.OfferEnded) and r.result == "answered"]
    assert [(o.agent_id, o.tier) for o in answered] == [("9001", Tier.NATIONAL)]
    # the tier was written on the caller's channel for re-adoption
    assert peer.channels[call].variables.get("ACD117_TIER") == "national"


async def test_an_agent_who_does_not_answer_is_passed_over_for_the_next(
        peer: FakeAsterisk, daemon: Daemon, records: Records) -> None:
    peer.register("PJSIP/1001", answer="manual")
    peer.register("PJSIP/1002")
    daemon.login("1001")
    await asyncio.sleep(0.05)
    daemon.login("1002")  # idle for less time: 1001 is rung first
    call = await peer.incoming_call(headers=BANDUNG)
    assert call
    await peer.wait_for(lambda: len(bridged(peer, call)) == 2, 3, "bridged with 1002")
    results = [(r.agent_id, r.result) for r in records.got if isinstance(r, rec.OfferEnded)]
    assert results == [("1001", "no_answer"), ("1002", "answered")]
    assert records.hops(call) == [Tier.KABKOTA]


async def test_a_caller_who_gives_up_in_the_queue_is_abandoned_and_nothing_is_left(
        peer: FakeAsterisk, daemon: Daemon, records: Records) -> None:
    call = await peer.incoming_call(headers=BANDUNG)  # nobody logged in anywhere
    assert call
    await peer.wait_for(lambda: Tier.NATIONAL in records.hops(call), what="queued at national")
    await peer.caller_hangs_up(call)
    await peer.wait_for(lambda: records.ended(), what="call record")
    assert records.ended()[0].outcome == "abandoned"
    assert not daemon.acd.calls and not daemon.telephony.side.app.calls


async def test_calls_waiting_when_acd117_restarts_are_adopted_and_answered(
        peer: FakeAsterisk, records: Records) -> None:
    first = await Daemon(peer, records).start()
    call = await peer.incoming_call(headers=BANDUNG)
    assert call
    await peer.wait_for(lambda: Tier.NATIONAL in records.hops(call), 3, "queued at national")
    await peer.wait_for(lambda: peer.channels[call].variables.get("ACD117_TIER") == "national",
                        what="tier kept on the channel")
    await first.stop()
    assert not peer.channels[call].gone, "the caller stays in Stasis while acd117 is down"

    second = await Daemon(peer, records).start()
    try:
        await peer.wait_for(lambda: call in second.acd.calls, what="call adopted")
        adopted = second.acd.calls[call]
        assert adopted.hops[-1].tier is Tier.NATIONAL
        peer.register("PJSIP/9001")
        second.login("9001")
        await peer.wait_for(lambda: len(bridged(peer, call)) == 2, 3, "answered after restart")
    finally:
        await second.stop()


async def test_a_websocket_drop_loses_no_call(
        peer: FakeAsterisk, daemon: Daemon, records: Records) -> None:
    peer.register("PJSIP/9001")
    call = await peer.incoming_call(headers=BANDUNG)
    assert call
    await peer.wait_for(lambda: Tier.NATIONAL in records.hops(call), what="queued at national")
    await peer.drop_websocket(refuse_s=0.1)
    daemon.login("9001")  # logs in while the events websocket is down
    await peer.wait_for(lambda: len(bridged(peer, call)) == 2, 3, "answered after reconnect")
    await peer.caller_hangs_up(call)
    await peer.wait_for(lambda: records.ended(), 3, "call record")
    assert records.ended()[0].outcome == "answered"


async def test_the_asterisk_side_restarted_after_a_failure_serves_calls_again(
        peer: FakeAsterisk, records: Records) -> None:
    d = Daemon(peer, records)
    board = asyncio.create_task(d.board.run())
    first = asyncio.create_task(d.telephony.run())
    await asyncio.wait_for(d.telephony.side.stream.connected.wait(), 2)
    first.cancel()  # as if it had failed: its clean-up closes the client and the stream
    with contextlib.suppress(asyncio.CancelledError):
        await first
    d.telephony.side.stream.connected.clear()
    again = asyncio.create_task(d.telephony.run())  # the supervisor's restart
    try:
        await asyncio.wait_for(d.telephony.side.stream.connected.wait(), 2)
        peer.register("PJSIP/1001")
        d.login("1001")
        call = await peer.incoming_call(headers=BANDUNG)
        assert call
        await peer.wait_for(lambda: len(bridged(peer, call)) == 2, 3, "answered after restart")
    finally:
        for task in (again, board):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def test_after_a_reload_callers_hear_the_prompt_files_now_configured(
        peer: FakeAsterisk, daemon: Daemon, records: Records) -> None:
    prompts = daemon.flows.announcements.prompts
    studio = {**prompts, "welcome": prompts["welcome"].model_copy(update={"file": "studio/w"})}
    daemon.flows = daemon.flows.model_copy(update={"announcements": daemon.flows.announcements
                                                   .model_copy(update={"prompts": studio})})
    call = await peer.incoming_call(headers=BANDUNG)
    assert call
    await peer.wait_for(lambda: peer.requests_to("POST", f"/ari/channels/{call}/play"))
    play = peer.requests_to("POST", f"/ari/channels/{call}/play")[0]
    assert play.query["media"] == "sound:studio/w"


async def test_a_cell_region_header_the_dialplan_does_not_pass_routes_the_call_to_it(
        peer: FakeAsterisk, daemon: Daemon, records: Records) -> None:
    # Telkomsel's INVITE says the cell is in Kota Bandung; the rule in force (trunk
    # trunk-telkomsel, header X-Cell-Region) reads it although the dialplan passes only
    # P-Asserted-Identity and P-Access-Network-Info.
    peer.register("PJSIP/1001")
    daemon.login("1001")
    call = await peer.incoming_call(trunk="trunk-telkomsel", headers=DIALPLAN_HEADERS,
                                    invite_headers=[("X-Cell-Region", "32.73")])
    assert call
    await peer.wait_for(lambda: any(isinstance(r, rec.CallStarted) for r in records.got))
    [started] = [r for r in records.got if isinstance(r, rec.CallStarted)]
    assert (started.region_code, started.trunk) == ("32.73", "trunk-telkomsel")
    assert started.region_source == "rule:trunk=trunk-telkomsel,header=X-Cell-Region"
    await peer.wait_for(lambda: len(bridged(peer, call)) == 2, what="answered in Bandung")
    assert rung(peer) == ["PJSIP/1001"]
    assert peer.rejected == []


async def test_after_a_reload_the_headers_the_new_rules_name_are_read(
        peer: FakeAsterisk, daemon: Daemon, records: Records) -> None:
    rule = {"trunk": "trunk-telkomsel", "header": "X-Zone"}
    daemon.flows = daemon.flows.model_copy(update={"ingress": daemon.flows.ingress.model_copy(
        update={"rules": [daemon.flows.ingress.rules[0].model_validate(rule)]})})
    call = await peer.incoming_call(headers=DIALPLAN_HEADERS)
    await peer.wait_for(lambda: peer.requests_to("GET", f"/ari/channels/{call}/variable"))
    [read] = peer.requests_to("GET", f"/ari/channels/{call}/variable")
    assert read.query["variable"] == "PJSIP_HEADER(read,X-Zone)"


async def test_a_recording_that_ended_while_the_websocket_was_down_is_still_handed_on(
        peer: FakeAsterisk, daemon: Daemon, records: Records) -> None:
    peer.register("PJSIP/1001")
    daemon.login("1001")
    call = await peer.incoming_call(headers=BANDUNG)
    assert call
    await peer.wait_for(lambda: len(bridged(peer, call)) == 2, what="bridged")
    await peer.wait_for(lambda: peer.bridges[f"acd117-{call}"].recording == call, what="recording")
    agent_leg = next(c for c in bridged(peer, call) if c != call)
    await peer.drop_websocket(refuse_s=0.3)
    await peer.agent_hangs_up(agent_leg)  # both sides leave while nobody listens:
    await peer.caller_hangs_up(call)  # the recording ends unseen [02, 07]
    recordings = daemon.telephony.side.app.recordings
    await peer.wait_for(lambda: any(m.call_id == call for m in recordings.finished), 3,
                        "recording reported after the resync")
    [meta] = [m for m in recordings.finished if m.call_id == call]
    assert meta.state == "done" and meta.agent_id == "1001"
    await peer.wait_for(lambda: records.ended(), 3, "call record")
