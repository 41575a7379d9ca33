"""Whole 117 calls through the Stasis adapter and the in-process Asterisk.

The routing core is the real one behind the switchboard (tests.ari.routing): Kota Bandung,
Jawa Barat and national centres, the welcome prompt, escalation prompts between tiers.
"""

from __future__ import annotations

from typing import Any

from acd.vocabulary.events import (
    AgentHungUp,
    CallAdopted,
    CallArrived,
    CallerHungUp,
    CallHandedOff,
    HoldEnded,
    HoldStarted,
    PromptFinished,
    RingAnswered,
    RingFailed,
)
from acd.vocabulary.tiers import Tier
from ari import adoption
from tests.ari.routing import WELCOME, RealCore
from tests.fakes.asterisk import FakeAsterisk


def ring_requests(peer: FakeAsterisk) -> list[dict[str, str]]:
    return [r.query for r in peer.requests_to("POST", "/ari/channels")]


async def test_call_answered_at_kabupaten_kota_is_bridged_recorded_and_cleaned_up(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    peer.register("PJSIP/1001")
    rig = await rig_factory(RealCore())
    call = await peer.incoming_call("+6281234567890", headers=[("X-Cell", "a,b")])
    assert call is not None
    await peer.wait_for(lambda: RingAnswered("offer-1") in rig.events, what="answer")
    await rig.settle()
    bridge = peer.bridges[f"acd117-{call}"]
    assert sorted(bridge.channels) == sorted([call, "offer-1"])
    assert bridge.recording == call
    assert not peer.channels[call].moh  # music stops when the agent is connected
    arrived = rig.events[0]
    assert isinstance(arrived, CallArrived)
    assert arrived.ingress.trunk == "trunk-telkomsel" and arrived.ingress.did == "117"
    assert arrived.ingress.header("x-cell") == "a,b"  # URI-encoded through the dialplan

    await peer.caller_hangs_up(call)
    await peer.wait_for(lambda: not peer.bridges, what="bridge destroyed")
    await rig.settle()
    assert CallerHungUp(call) in rig.events
    assert not any(isinstance(e, AgentHungUp) for e in rig.events)  # the core ended it
    assert peer.channels["offer-1"].gone
    [meta] = rig.app.recordings.finished
    assert (meta.call_id, meta.agent_id, meta.caller) == (call, "1001", "+6281234567890")
    assert call not in rig.app.calls and not rig.app.offers  # nothing left behind
    assert peer.rejected == []


async def test_unanswered_call_escalates_to_the_province(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    peer.time_scale = 0.2  # the 1 s ring timeout lasts 0.2 s
    peer.register("PJSIP/1001", answer="manual")
    peer.register("PJSIP/2001")
    rig = await rig_factory(RealCore(["1001", "2001"], ring_timeout_s=1, after_s=0.1))
    call = await peer.incoming_call()
    await peer.wait_for(lambda: RingAnswered("offer-2") in rig.events, 3, "province answers")
    assert RingFailed("offer-1", "no_answer") in rig.events
    assert PromptFinished(call or "", "escalate-province") in rig.events
    rings = ring_requests(peer)
    assert rings[0]["endpoint"] == "PJSIP/1001" and rings[0]["timeout"] == "1"
    assert rings[1]["endpoint"] == "PJSIP/2001"
    assert rings[1]["callerId"] == '"117 PROV 32.73 Kota Bandung" <+6281234567890>'


async def test_call_reaches_national_when_kabupaten_rejects_and_province_is_offline(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    peer.register("PJSIP/1001", answer="reject")
    # PJSIP/2001 never registered: originate answers 500 Allocation failed [04].
    peer.register("PJSIP/3001")
    rig = await rig_factory(RealCore(["1001", "2001", "3001"], after_s=0.1))
    await peer.incoming_call()
    await peer.wait_for(lambda: RingAnswered("offer-3") in rig.events, 3, "national answers")
    assert [e for e in rig.events if isinstance(e, RingFailed)] == [
        RingFailed("offer-1", "busy"),
        RingFailed("offer-2", "failed"),
    ]
    assert peer.requests_to("POST", "/ari/channels")[1].status == 500


async def test_caller_abandoning_in_queue_stops_the_ringing_agent(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    peer.register("PJSIP/1001", answer="manual")
    rig = await rig_factory(RealCore(ring_timeout_s=30))
    call = await peer.incoming_call()
    assert call is not None
    await peer.wait_for(lambda: "offer-1" in peer.channels, what="ringing")
    await peer.wait_for(lambda: peer.channels[call].moh, what="music on hold while queued")
    await peer.caller_hangs_up(call)
    await peer.wait_for(lambda: peer.channels["offer-1"].gone, what="ringing stopped")
    await rig.settle()
    assert CallerHungUp(call) in rig.events
    assert rig.core.outcomes[call] == "abandoned"
    stop = peer.requests_to("DELETE", "/ari/channels/offer-1")[0]
    assert stop.query == {"reason": "normal"}
    assert not any(isinstance(e, RingFailed) for e in rig.events)  # the core stopped it


async def test_agent_not_answering_moves_the_call_to_the_next_agent(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    peer.time_scale = 0.2
    peer.register("PJSIP/1001", answer="dead")  # registered, but the phone died [04 F]
    peer.register("PJSIP/1002")
    rig = await rig_factory(RealCore(["1001", "1002"], ring_timeout_s=1))
    await peer.incoming_call()
    await peer.wait_for(lambda: RingAnswered("offer-2") in rig.events, 3, "second agent")
    assert RingFailed("offer-1", "no_answer") in rig.events


async def test_ring_all_second_answer_is_hung_up_as_answered_elsewhere(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    peer.register("PJSIP/1001", answer="manual")
    peer.register("PJSIP/1002", answer="manual")
    rig = await rig_factory(RealCore(["1001", "1002"], strategy="ring_all"))
    await peer.incoming_call()
    await peer.wait_for(lambda: {"offer-1", "offer-2"} <= set(peer.channels), what="both ringing")
    peer.answer_now("offer-1")  # both phones pick up at the same moment
    peer.answer_now("offer-2")
    await peer.wait_for(lambda: len([e for e in rig.events if isinstance(e, RingAnswered)]) == 2)
    await peer.wait_for(lambda: any(r.query.get("reason") == "answered_elsewhere"
                                    for r in peer.requests if r.method == "DELETE"))
    await rig.settle()
    loser = next(r for r in peer.requests if r.query.get("reason") == "answered_elsewhere")
    winner = next(e.offer_id for e in rig.events if isinstance(e, RingAnswered))
    assert loser.path != f"/ari/channels/{winner}"


async def test_an_answer_during_the_welcome_is_bridged_while_the_call_facts_wait(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    # Asterisk answers a variable set on a channel playing its welcome only when the
    # welcome ends: the facts kept for re-adoption must not hold up the bridge.
    peer.stall_requests("POST", "/variables", 1.0)
    peer.register("PJSIP/1001")
    rig = await rig_factory(RealCore(ring_during_welcome=True))
    await peer.incoming_call()
    await peer.wait_for(lambda: RingAnswered("offer-1") in rig.events)
    await peer.wait_for(lambda: any(r.path.endswith("/addChannel") for r in peer.requests),
                        what="the bridge")
    facts = [r for r in peer.requests if r.path.endswith("/variables")]
    assert facts and all(r.status == 0 for r in facts), "bridged while the facts still wait"


async def test_agent_hold_and_resume_are_reported(peer: FakeAsterisk, rig_factory: Any) -> None:
    peer.register("PJSIP/1001")
    rig = await rig_factory(RealCore())
    call = await peer.incoming_call()
    await peer.wait_for(lambda: RingAnswered("offer-1") in rig.events)
    await peer.hold("offer-1")
    await peer.hold("offer-1", on=False)
    await peer.wait_for(lambda: HoldEnded(call or "") in rig.events)
    assert HoldStarted(call or "") in rig.events


async def test_agent_hanging_up_first_ends_the_call(peer: FakeAsterisk, rig_factory: Any) -> None:
    peer.register("PJSIP/1001")
    rig = await rig_factory(RealCore())
    call = await peer.incoming_call()
    assert call is not None
    await peer.wait_for(lambda: RingAnswered("offer-1") in rig.events)
    await rig.settle()
    await peer.agent_hangs_up("offer-1")
    await peer.wait_for(lambda: peer.channels[call].gone, what="caller hung up by the core")
    await rig.settle()
    assert AgentHungUp(call) in rig.events
    assert not any(isinstance(e, CallerHungUp) for e in rig.events)
    assert not peer.bridges


async def test_a_failing_handler_sends_the_caller_back_to_the_dialplan_fallback(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    def broken_core(event: Any) -> list[Any]:
        if isinstance(event, CallArrived):
            raise RuntimeError("core bug")
        return []

    rig = await rig_factory(broken_core)
    call = await peer.incoming_call()
    await peer.wait_for(lambda: peer.dialplan_exits, what="continue")
    [exit_] = peer.dialplan_exits
    assert (exit_.channel_id, exit_.context, exit_.extension, exit_.priority) == (
        call, "acd117-fallback", "s", 1,
    )
    await rig.settle()
    assert CallHandedOff(call or "", "StasisStart handler failed") in rig.events  # core lets go


async def test_calls_take_the_dialplan_fallback_while_acd117_is_not_connected(
    peer: FakeAsterisk,
) -> None:
    assert await peer.incoming_call() is None
    assert peer.dialplan_exits[0].why == "STASISSTATUS=FAILED"


async def test_daemon_restart_readopts_queued_and_connected_calls(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    peer.register("PJSIP/1001")
    peer.register("PJSIP/1002", answer="manual")
    first = await rig_factory(RealCore(["1001", "1002"]))
    talking = await peer.incoming_call("+628111")
    await peer.wait_for(lambda: RingAnswered("offer-1") in first.events)
    peer.endpoints["PJSIP/1001"].answer = "manual"
    waiting = await peer.incoming_call("+628222")
    assert talking is not None and waiting is not None
    await peer.wait_for(lambda: "offer-2" in peer.channels, what="second call ringing")
    await first.settle()
    facts = peer.channels[waiting].variables
    assert facts[adoption.TIER_VAR] == "kabkota"
    arrived_at = float(facts[adoption.ARRIVED_AT_VAR])
    tier_since = float(facts[adoption.TIER_SINCE_VAR])
    answered_at = float(peer.channels[talking].variables[adoption.ANSWERED_AT_VAR])

    # acd117 dies: its websocket goes, the calls stay in Stasis [07].
    await first.stop()
    await peer.drop_websocket()
    second = await rig_factory(RealCore(["1002"], offer_prefix="new"))
    await second.settle()
    adopted = {e.call_id: e for e in second.events if isinstance(e, CallAdopted)}
    assert set(adopted) == {talking, waiting}
    assert (adopted[talking].agent_id, adopted[talking].device) == ("1001", "PJSIP/1001")
    assert adopted[talking].answered_at == answered_at
    assert adopted[waiting].agent_id is None and adopted[waiting].answered_at is None
    assert adopted[waiting].tier is Tier.KABKOTA
    assert (adopted[waiting].arrived_at, adopted[waiting].tier_since) == (arrived_at, tier_since)
    assert adopted[waiting].caller == "+628222"
    assert adopted[waiting].ingress.trunk == "trunk-telkomsel"
    # The old ringing leg of the waiting call was ended; the new process rings again.
    assert peer.channels["offer-2"].gone
    await peer.wait_for(lambda: "new-1" in peer.channels, what="re-rung")
    await peer.answer("new-1")
    await peer.wait_for(lambda: RingAnswered("new-1") in second.events, what="answered")
    # The connected call is still hung up properly by the new process.
    await peer.caller_hangs_up(talking)
    await peer.wait_for(lambda: not any(
        c.kind == "agent" and not c.gone and c.args[1] == talking for c in peer.channels.values()
    ), what="agent of the re-adopted call hung up")
    # Its bridge recording, started by the first process, is handed on by the second.
    await second.settle()
    assert [m.call_id for m in second.app.recordings.finished] == [talking]
    assert second.app.recordings.finished[0].agent_id == "1001"


async def test_websocket_drop_loses_events_and_the_resync_recovers_them(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    peer.register("PJSIP/1001")
    peer.playback_s = 0.15
    rig = await rig_factory(RealCore())
    call = await peer.incoming_call()
    await peer.wait_for(lambda: peer.playbacks, what="welcome prompt playing")
    await peer.drop_websocket(refuse_s=0.3)
    await peer.wait_for(lambda: peer.events_missed, what="PlaybackFinished missed")
    await peer.wait_for(lambda: RingAnswered("offer-1") in rig.events, 3, "answered after resync")
    assert PromptFinished(call or "", WELCOME) in rig.events
    assert rig.stream.stats.drops == 1


async def test_asterisk_restart_ends_the_call_and_service_resumes(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    peer.register("PJSIP/1001")
    rig = await rig_factory(RealCore())
    call = await peer.incoming_call()
    await peer.wait_for(lambda: RingAnswered("offer-1") in rig.events)
    await rig.settle()
    await peer.restart()
    await peer.wait_for(lambda: rig.stream.connected.is_set() and rig.stream.stats.connects == 2,
                        3, "reconnected")
    assert AgentHungUp(call or "") in rig.events and CallerHungUp(call or "") in rig.events
    again = await peer.incoming_call()
    await peer.wait_for(
        lambda: any(isinstance(e, CallArrived) and e.call_id == again for e in rig.events)
    )


async def test_an_unreadable_stasis_start_is_given_to_the_dialplan(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    rig = await rig_factory(RealCore())
    call = await peer.incoming_call()
    assert call is not None
    await rig.settle()
    rig.app.calls.clear()  # as if this StasisStart were the first news of the call
    await rig.app.handle_ari_event({"type": "StasisStart", "channel": {"id": call}})
    await peer.wait_for(lambda: peer.dialplan_exits, what="continue")
    assert peer.dialplan_exits[0].context == "acd117-fallback"


async def test_call_facts_are_kept_on_asterisk_without_the_bulk_variables_resource(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    peer.bulk_variables = False  # POST /channels/{id}/variables came with 20.20 / 22.10
    peer.register("PJSIP/1001", answer="manual")
    rig = await rig_factory(RealCore())
    first = await peer.incoming_call()
    await peer.wait_for(lambda: adoption.TIER_SINCE_VAR in peer.channels[first or ""].variables,
                        what="facts of the first call saved one variable at a time")
    second = await peer.incoming_call()
    await peer.wait_for(lambda: adoption.TIER_SINCE_VAR in peer.channels[second or ""].variables)
    bulk = [r for r in peer.requests if r.path.endswith("/variables")]
    assert len(bulk) == 1  # refused once, not asked again
    assert peer.channels[second or ""].variables[adoption.TIER_VAR] == "kabkota"
    assert rig.app.calls


async def test_fallback_command_gives_the_call_to_the_dialplan_queue(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    from acd.vocabulary.commands import Fallback

    peer.register("PJSIP/1001", answer="manual")
    rig = await rig_factory(RealCore())
    call = await peer.incoming_call()
    await peer.wait_for(lambda: call in rig.app.calls)
    await rig.app.execute(Fallback(call or "", "internal error"))
    [exit_] = peer.dialplan_exits
    assert (exit_.channel_id, exit_.context, exit_.extension, exit_.priority) == (
        call, "acd117-fallback", "s", 1,
    )
    await rig.settle()
    assert CallHandedOff(call or "", "internal error") in rig.events


async def test_numbers_are_said_from_the_recorded_number_files(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    from acd.vocabulary.commands import PlayPrompt
    from ari.stasis import prompt_media_for

    rig = await rig_factory(lambda event: [],
                            prompt_media=prompt_media_for({"expected_wait": "acd117/wait"}))
    call = await peer.incoming_call()
    await peer.wait_for(lambda: call in rig.app.calls)
    await rig.app.execute(PlayPrompt(call or "", "expected_wait", 7))
    [play] = peer.requests_to("POST", f"/ari/channels/{call}/play")
    assert play.query["media"] == "sound:acd117/wait,sound:acd117/numbers/7"
    await peer.wait_for(lambda: PromptFinished(call or "", "expected_wait") in rig.events)


async def test_hand_off_is_retried_until_asterisk_lets_the_caller_go(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    from acd.vocabulary.commands import Fallback

    rig = await rig_factory(lambda event: [], handoff_retries_s=(0.01, 0.01, 0.01))
    call = await peer.incoming_call()
    await peer.wait_for(lambda: call in rig.app.calls)
    peer.fail_requests("POST", "/continue", 503, times=2)
    await rig.app.execute(Fallback(call or "", "internal error"))
    assert [e.channel_id for e in peer.dialplan_exits] == [call]
    assert len(peer.requests_to("POST", f"/ari/channels/{call}/continue")) == 3


async def test_a_caller_asterisk_keeps_refusing_to_let_go_is_never_forgotten(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    from acd.vocabulary.commands import Fallback

    rig = await rig_factory(lambda event: [], handoff_retries_s=(0.01, 0.01))
    call = await peer.incoming_call()
    await peer.wait_for(lambda: call in rig.app.calls)
    peer.fail_requests("POST", "/continue", 500, times=5)
    await rig.app.execute(Fallback(call or "", "internal error"))
    # retried past the back-off list, at its last interval, until Asterisk let it go
    assert [e.channel_id for e in peer.dialplan_exits] == [call]
    assert len(peer.requests_to("POST", f"/ari/channels/{call}/continue")) == 6
