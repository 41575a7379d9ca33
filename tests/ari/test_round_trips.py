"""The ARI round trips between a 117 caller and an agent, counted on the in-process Asterisk.

The welcome is still playing in these tests (ring while the welcome plays, the default).

- StasisStart -> the agent's phone rung: no round trip waited for. The originate goes out
  beside the welcome's `play`, not behind it (the ring is keyed by its offer, the prompt by
  its call).
- The agent's answer -> both legs bridged: two round trips, one after the other. The
  welcome is stopped and the bridge made at once; only then are both legs added in one
  request. Asterisk answers an operation on a channel that is playing only when the
  playback ends, so a leg is never added before its playback is stopped.

A request that creeps into either path shows up here as a changed list.
"""

from __future__ import annotations

from typing import Any

from acd.vocabulary.events import RingAnswered
from tests.ari.routing import WELCOME, RealCore
from tests.fakes.asterisk import FakeAsterisk
from tests.fakes.asterisk.objects import RecordedRequest

STALL_S = 0.5  # long enough to see what waits for what; no time is asserted


def path_of(request: RecordedRequest) -> str:
    return f"{request.method} {request.path}"


async def test_the_agents_phone_rings_before_asterisk_has_answered_the_welcome(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    peer.playback_s = 5.0
    peer.stall_requests("POST", "/play", STALL_S)
    peer.register("PJSIP/1001", answer="manual")
    await rig_factory(RealCore(ring_during_welcome=True))
    call = await peer.incoming_call()
    assert call is not None
    await peer.wait_for(lambda: peer.requests_to("POST", "/ari/channels"), what="the ring")
    [play] = peer.requests_to("POST", f"/ari/channels/{call}/play")
    assert play.query["media"] == f"sound:{WELCOME}"
    assert play.status == 0, "the ring waited for the welcome's play request"
    first = len(peer.requests) - 1 - [r.path for r in reversed(peer.requests)].index(
        f"/ari/channels/{call}/play")
    # Between the call's arrival and the ring: the welcome, and the call's facts for a
    # restart (kept in a task of their own), nothing else.
    assert sorted(path_of(r) for r in peer.requests[first:]) == sorted([
        f"POST /ari/channels/{call}/play",
        f"POST /ari/channels/{call}/variables",
        "POST /ari/channels",
    ])


async def test_an_answer_is_bridged_in_two_round_trips(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    peer.playback_s = 5.0  # the agent answers during the welcome
    peer.register("PJSIP/1001", answer="manual")
    rig = await rig_factory(RealCore(ring_during_welcome=True))
    call = await peer.incoming_call()
    assert call is not None
    await peer.wait_for(lambda: "offer-1" in peer.channels, what="the ring")
    await rig.settle()
    peer.stall_requests("DELETE", "/playbacks/acd117-pb-1", STALL_S)
    answered_at = len(peer.requests)
    await peer.answer("offer-1")
    await peer.wait_for(lambda: RingAnswered("offer-1") in rig.events, what="the answer")
    bridge = f"acd117-{call}"
    await peer.wait_for(lambda: bridge in peer.bridges
                        and len(peer.bridges[bridge].channels) == 2, what="both legs bridged")
    after = peer.requests[answered_at:]
    add = next(i for i, r in enumerate(after) if r.path == f"/ari/bridges/{bridge}/addChannel")
    # First round trip: stopping the welcome and making the bridge, sent together (the
    # bridge request arrives while the stop is still unanswered).
    stop = next(r for r in after if path_of(r) == "DELETE /ari/playbacks/acd117-pb-1")
    make = next(r for r in after if path_of(r) == "POST /ari/bridges")
    assert make.at < stop.at + STALL_S, "the bridge waited for the welcome to stop"
    assert sorted(path_of(r) for r in after[:add]) == [
        "DELETE /ari/playbacks/acd117-pb-1", "POST /ari/bridges"]
    # Second: both legs in one request, sent once the welcome has stopped.
    assert after[add].query == {"channel": f"{call},offer-1"}
    assert after[add].at >= stop.at + STALL_S
