"""Agent feature codes (free seating) through the Stasis app: DTMF dialogs and events."""

from __future__ import annotations

from typing import Any

from acd.vocabulary.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentUnpaused,
    WrapUpDone,
)
from tests.fakes.asterisk import FakeAsterisk

PINS = {"1001": "4321", "2002": "9999"}


def verify_pin(agent_id: str, pin: str) -> bool:
    return PINS.get(agent_id) == pin


def no_core(event: Any) -> list[Any]:
    return []


def prompts_played(peer: FakeAsterisk, channel: str) -> list[str]:
    return [
        r.query["media"].removeprefix("sound:")
        for r in peer.requests_to("POST", f"/ari/channels/{channel}/play")
    ]


async def test_login_with_agent_id_and_pin_from_any_phone(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    rig = await rig_factory(no_core, verify_pin=verify_pin)
    channel = await peer.feature_call("PJSIP/1003", "login")
    assert channel is not None
    await peer.wait_for(lambda: prompts_played(peer, channel), what="agent id prompt")
    await peer.send_dtmf(channel, "1001#")
    await peer.wait_for(lambda: len(prompts_played(peer, channel)) == 2, what="pin prompt")
    await peer.send_dtmf(channel, "4321#")
    await peer.wait_for(lambda: peer.channels[channel].gone, what="hang-up after login")
    assert rig.events == [AgentLoggedIn(agent_id="1001", device="PJSIP/1003")]
    assert prompts_played(peer, channel) == [
        "agent-enter-id", "agent-enter-pin", "agent-logged-in",
    ]


async def test_digits_stop_the_prompt_they_interrupt(peer: FakeAsterisk, rig_factory: Any) -> None:
    peer.playback_s = 5.0  # a long prompt: DTMF alone does not stop it [06]
    await rig_factory(no_core, verify_pin=verify_pin)
    channel = await peer.feature_call("PJSIP/1003", "login")
    await peer.wait_for(lambda: prompts_played(peer, channel or ""))
    await peer.send_dtmf(channel or "", "1")
    await peer.wait_for(lambda: any(r.method == "DELETE" and r.path.startswith("/ari/playbacks/")
                                    for r in peer.requests), what="prompt stopped")


async def test_agent_id_can_be_dialled_with_the_code(peer: FakeAsterisk, rig_factory: Any) -> None:
    rig = await rig_factory(no_core, verify_pin=verify_pin)
    channel = await peer.feature_call("PJSIP/1001", "login", "2002")
    await peer.wait_for(lambda: prompts_played(peer, channel or ""))
    await peer.send_dtmf(channel or "", "9999#")
    await peer.wait_for(lambda: rig.events)
    assert rig.events == [AgentLoggedIn(agent_id="2002", device="PJSIP/1001")]
    assert prompts_played(peer, channel or "")[0] == "agent-enter-pin"


async def test_wrong_pin_three_times_logs_nobody_in(peer: FakeAsterisk, rig_factory: Any) -> None:
    rig = await rig_factory(no_core, verify_pin=verify_pin)
    channel = await peer.feature_call("PJSIP/1003", "login", "1001")
    assert channel is not None
    for attempt in range(3):
        await peer.wait_for(lambda a=attempt: prompts_played(peer, channel).count(
            "agent-enter-pin") == a + 1, what=f"pin prompt {attempt + 1}")
        await peer.send_dtmf(channel, "0000#")
    await peer.wait_for(lambda: peer.channels[channel].gone)
    assert rig.events == []
    assert prompts_played(peer, channel)[-2:] == ["agent-login-failed", "goodbye"]


async def test_pin_check_may_be_a_coroutine(peer: FakeAsterisk, rig_factory: Any) -> None:
    async def check(agent_id: str, pin: str) -> bool:
        return verify_pin(agent_id, pin)

    rig = await rig_factory(no_core, verify_pin=check)
    channel = await peer.feature_call("PJSIP/1003", "login", "1001")
    await peer.wait_for(lambda: prompts_played(peer, channel or ""))
    await peer.send_dtmf(channel or "", "4321#")
    await peer.wait_for(lambda: rig.events)
    assert rig.events == [AgentLoggedIn("1001", "PJSIP/1003")]


async def test_pause_with_a_reason_code_then_unpause_logout_and_wrap_up(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    rig = await rig_factory(no_core, verify_pin=verify_pin,
                            pause_reason={"1": "break", "2": "briefing"}.get)
    login = await peer.feature_call("PJSIP/1001", "login", "1001")
    await peer.wait_for(lambda: prompts_played(peer, login or ""))
    await peer.send_dtmf(login or "", "4321#")
    await peer.wait_for(lambda: rig.events)

    pause = await peer.feature_call("PJSIP/1001", "pause")
    await peer.wait_for(lambda: prompts_played(peer, pause or ""))
    await peer.send_dtmf(pause or "", "7#")  # not a reason code: asked again
    await peer.wait_for(lambda: len(prompts_played(peer, pause or "")) >= 2)
    await peer.send_dtmf(pause or "", "2#")
    await peer.wait_for(lambda: len(rig.events) == 2)
    assert rig.events[1] == AgentPaused(agent_id="1001", reason="briefing")

    for code in ("unpause", "wrapup", "logout"):
        await peer.feature_call("PJSIP/1001", code)
    await peer.wait_for(lambda: len(rig.events) == 5)
    assert rig.events[2:] == [
        AgentUnpaused("1001"), WrapUpDone("1001"), AgentLoggedOut("1001", "agent"),
    ]


async def test_pause_code_can_be_dialled_with_the_feature_code(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    rig = await rig_factory(no_core, agent_at_device={"PJSIP/1001": "1001"}.get)
    await peer.feature_call("PJSIP/1001", "pause", "3")
    await peer.wait_for(lambda: rig.events)
    assert rig.events == [AgentPaused(agent_id="1001", reason="3")]


async def test_logout_from_a_phone_with_nobody_known_asks_who(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    rig = await rig_factory(no_core, verify_pin=verify_pin)
    channel = await peer.feature_call("PJSIP/1009", "logout")
    await peer.wait_for(lambda: prompts_played(peer, channel or ""))
    await peer.send_dtmf(channel or "", "2002#")
    await peer.wait_for(lambda: len(prompts_played(peer, channel or "")) == 2)
    await peer.send_dtmf(channel or "", "9999#")
    await peer.wait_for(lambda: rig.events)
    assert rig.events == [AgentLoggedOut("2002", "agent")]


async def test_hanging_up_during_the_dialog_reports_nothing(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    rig = await rig_factory(no_core, verify_pin=verify_pin)
    channel = await peer.feature_call("PJSIP/1003", "login")
    await peer.wait_for(lambda: prompts_played(peer, channel or ""))
    await peer.send_dtmf(channel or "", "10")
    await peer.caller_hangs_up(channel or "")
    await rig.settle()
    assert rig.events == []
    assert not rig.app._features


async def test_feature_codes_need_acd117_connected(peer: FakeAsterisk) -> None:
    assert await peer.feature_call("PJSIP/1001", "login") is None
    assert peer.dialplan_exits[0].context == "acd117-agents"


async def test_a_login_at_a_phone_the_policy_refuses_is_told_and_reports_nothing(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    asked: list[tuple[str, str]] = []

    def taken(agent_id: str, device: str) -> str | None:
        asked.append((agent_id, device))
        return f"{device} is taken: agent 1002 is logged in there"

    rig = await rig_factory(no_core, verify_pin=verify_pin, login_refusal=taken)
    channel = await peer.feature_call("PJSIP/1002", "login", "1001")
    assert channel is not None
    await peer.wait_for(lambda: prompts_played(peer, channel))
    await peer.send_dtmf(channel, "4321#")
    await peer.wait_for(lambda: peer.channels[channel].gone, what="hang-up after refusal")
    assert rig.events == []
    assert asked == [("1001", "PJSIP/1002")]
    assert prompts_played(peer, channel) == ["agent-enter-pin", "agent-login-failed"]


async def test_star_15_before_the_call_is_classified_is_told_and_reports_nothing(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    rig = await rig_factory(no_core, verify_pin=verify_pin,
                            wrap_up_refusal=lambda agent_id: "the call is not classified yet")
    login = await peer.feature_call("PJSIP/1001", "login", "1001")
    await peer.wait_for(lambda: prompts_played(peer, login or ""))
    await peer.send_dtmf(login or "", "4321#")
    await peer.wait_for(lambda: rig.events)
    channel = await peer.feature_call("PJSIP/1001", "wrapup")
    assert channel is not None
    await peer.wait_for(lambda: peer.channels[channel].gone, what="hang-up after refusal")
    assert rig.events == [AgentLoggedIn("1001", "PJSIP/1001")]
    assert prompts_played(peer, channel) == ["agent-login-failed"]
