"""Recorded Asterisk 22 scenarios re-enacted through the Stasis adapter (see replay.py).

Each test names the behaviour; the scenario number is the transcript it comes from.
"""

from __future__ import annotations

import pytest

from acd.vocabulary.events import (
    AgentHungUp,
    CallArrived,
    CallerHungUp,
    PromptFinished,
    RingAnswered,
    RingFailed,
)
from tests.ari.replay import Replay, replay
from tests.fakes.asterisk.swagger import ApiDocs


def kinds(r: Replay) -> list[str]:
    return [type(e).__name__ for e in r.events]


async def test_02_answered_call_arrives_rings_connects_and_ends_with_the_caller() -> None:
    r = await replay("02-answered-call")
    call = "1795380555.22"
    assert r.events == [
        CallArrived(call, "+6281234567890", r.events[0].ingress),  # type: ignore[union-attr]
        PromptFinished(call, "welcome-117"),
        RingAnswered("agent-02-1001"),
        CallerHungUp(call),
    ]
    arrived = r.events[0]
    assert isinstance(arrived, CallArrived)
    assert arrived.ingress.trunk == "trunk-telkomsel"
    originate = next(q for m, p, q in r.requests if m == "POST" and p == "/ari/channels")
    assert originate["endpoint"] == "PJSIP/1001"
    assert originate["app"] == "acd117"
    assert originate["appArgs"] == f"agent,{call},agent-1001"
    assert originate["channelId"] == "agent-02-1001"
    assert originate["timeout"] == "15"
    assert originate["callerId"] == '"117 32.73 Kota Bandung" <+6281234567890>'
    bridged = [q for m, p, q in r.requests if p.endswith("/addChannel")]
    assert bridged == [{"channel": f"{call},agent-02-1001"}]
    # The core hung up the agent after the caller left: no AgentHungUp comes back, the
    # agent leg is ended with reason normal and the bridge is destroyed.
    assert ("DELETE", "/ari/channels/agent-02-1001", {"reason": "normal"}) in r.requests
    assert r.requests[-1] == ("DELETE", f"/ari/bridges/acd117-{call}", {})


async def test_02_bridge_recording_metadata_is_handed_on_when_it_ends_by_itself() -> None:
    r = await replay("02-answered-call")
    [meta] = r.recordings
    assert meta.name == "call-02"
    assert meta.caller == "+6281234567890"
    assert meta.agent_id == "agent-1001"
    assert meta.duration_s == 7.0
    assert meta.state == "done"
    assert meta.path == "/var/spool/asterisk/recording/call-02.wav"
    assert meta.ended_at is not None and meta.started_at is not None
    assert meta.ended_at - meta.started_at == pytest.approx(7.0, abs=0.1)


async def test_02b_duplicated_events_of_an_endpoint_subscription_change_nothing() -> None:
    plain = await replay("02-answered-call")
    doubled = await replay("02b-answered-call-endpoint-subscribed")
    assert kinds(doubled) == kinds(plain)
    assert RingAnswered("agent-02-1001") in doubled.events


async def test_03_ring_timeout_is_no_answer_and_486_is_busy() -> None:
    r = await replay("03-agent-no-answer")
    assert [e for e in r.events if isinstance(e, RingFailed)] == [
        RingFailed("1795380603.30", "no_answer"),  # timeout: ChannelDestroyed 19, no Dial
        RingFailed("1795380609.31", "busy"),  # phone rejected: cause 17
    ]
    # Third attempt: the core stopped the ringing itself; Asterisk's reply is not news.
    assert ("DELETE", "/ari/channels/1795380613.32", {"reason": "no_answer"}) in r.requests


async def test_04_unregistered_unknown_or_dead_endpoints_fail_the_ring() -> None:
    r = await replay("04-agent-unregistered")
    assert r.events == [
        RingFailed("offer-1", "failed"),  # PJSIP/1003 not registered: 500 Allocation failed
        RingFailed("offer-2", "failed"),  # PJSIP/9999 unknown
        RingFailed("offer-3", "failed"),  # SIP/1003: no such technology
        RingFailed("1795380670.33", "no_answer"),  # dead phone: Down, cause 19 at timeout
        RingFailed("offer-5", "failed"),  # contact Unreachable
    ]


async def test_05_caller_hanging_up_while_queued_is_reported_once() -> None:
    r = await replay("05-caller-hangup-while-queued")
    assert r.events[:2] == [
        CallArrived("caller-05a-2", "+6281234567890", r.events[0].ingress),  # type: ignore[union-attr]
        CallerHungUp("caller-05a-2"),
    ]
    # B: the prompt fails when the caller hangs up - still PromptFinished, then the hang-up.
    b = [e for e in r.events if getattr(e, "call_id", None) == "caller-05b-2"]
    assert [type(e).__name__ for e in b] == ["CallArrived", "PromptFinished", "CallerHungUp"]
    # C: the core hung the caller up itself: nothing to report.
    c = [e for e in r.events if getattr(e, "call_id", None) == "caller-05c-2"]
    assert [type(e).__name__ for e in c] == ["CallArrived"]
    # D: the Stasis channel itself hung up via AMI: only StasisEnd arrived.
    assert CallerHungUp("caller-05d-2") in r.events


async def test_06_caller_dtmf_during_a_prompt_is_not_a_domain_event() -> None:
    r = await replay("06-caller-dtmf")
    assert kinds(r) == ["CallArrived", "PromptFinished"]


async def test_07_prompt_finished_while_disconnected_is_found_at_the_resync() -> None:
    r = await replay("07-app-disconnect-reconnect")
    prompts = [e for e in r.events if isinstance(e, PromptFinished)]
    # pb-07-offline's events were lost [07]; the resync found it gone. pb-07-online
    # finished normally afterwards.
    assert prompts == [PromptFinished("caller-07-2", "hello-world")] * 2
    assert not any(isinstance(e, CallerHungUp) for e in r.events)
    # The call arriving while no websocket was connected never reached the app.
    assert not any(getattr(e, "caller", None) == "+6281111111111" for e in r.events)


async def test_11_asterisk_restart_ends_both_legs_of_a_connected_call() -> None:
    r = await replay("11-asterisk-restart")
    assert kinds(r)[:4] == ["CallArrived", "RingAnswered", "AgentHungUp", "CallerHungUp"]
    assert AgentHungUp("1795381024.1") in r.events
    # After the restart ringing works again.
    assert r.events[-1] == RingAnswered("1795381032.0")


async def test_12_ring_all_double_answer_reports_both_answers_and_stops_the_loser() -> None:
    r = await replay("12-ring-all")
    assert [e for e in r.events if isinstance(e, RingAnswered)] == [
        RingAnswered("ringall-12a-1001"),
        RingAnswered("ringall-12b-1001"),
        RingAnswered("ringall-12b-1002"),  # answered 4 ms after the winner
    ]
    stops = [(p, q) for m, p, q in r.requests if m == "DELETE" and "ringall" in p]
    assert ("/ari/channels/ringall-12a-1002", {"reason": "answered_elsewhere"}) in stops
    assert ("/ari/channels/ringall-12b-1002", {"reason": "answered_elsewhere"}) in stops
    assert not any(isinstance(e, RingFailed) for e in r.events)


async def test_14_sip_trunk_caller_bye_without_cause_is_a_hang_up() -> None:
    r = await replay("14-sip-trunk-caller")
    first, second = "1795381244.33", "1795381256.37"
    assert CallerHungUp(first) in r.events
    assert CallerHungUp(second) in r.events
    # The ringing agent leg is not ended by Asterisk; the core stops it [14].
    assert ("DELETE", "/ari/channels/agent-14b-1002", {"reason": "normal"}) in r.requests
    assert [m.name for m in r.recordings] == ["call-14"]


async def test_01_presence_events_over_ari_are_left_to_ami() -> None:
    r = await replay("01-agent-register")
    assert r.events == []


@pytest.mark.parametrize(
    "scenario",
    ["02-answered-call", "03-agent-no-answer", "05-caller-hangup-while-queued",
     "07-app-disconnect-reconnect", "12-ring-all", "14-sip-trunk-caller"],
)
async def test_replayed_requests_are_all_documented(api_docs: ApiDocs, scenario: str) -> None:
    r = await replay(scenario)
    for (method, path, query), body in zip(r.requests, r.bodies, strict=True):
        op, _ = api_docs.match(method, path.removeprefix("/ari"))
        api_docs.validate(op, query, body)
