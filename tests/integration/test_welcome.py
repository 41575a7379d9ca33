"""The welcome and the first ring on a real Asterisk: a free agent's phone rings while the
caller still hears the welcome, and the agent's answer cuts it short; a welcome marked
`heard_in_full` holds every phone until it has played.

The example's own welcome is used (about 8 s, as callers hear it), so "during" and "after"
are told apart by seconds, by Asterisk's own event times."""

from __future__ import annotations

import wave

from tests.integration.ami import Message
from tests.integration.scenario import dial_117, ready_agent

FULL_WELCOME = {"announcements": {"announcements": {"welcome": "welcome"}}}


def welcome_s(asterisk) -> float:
    path = asterisk.root / "var/lib/asterisk/sounds/id/acd117/welcome.wav"
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def at(e: Message) -> float:
    return float(e.get("Timestamp") or e["_t"])


def entered(ami, call_id: str, after: int) -> float:
    """When the caller's channel (the one acd117 sees) was made."""
    return at(next(e for e in ami.events[after:] if e.get("Event") == "Newchannel"
                   and e.get("Uniqueid") == call_id))


def rung(ami, phone: str, after: int) -> float:
    """When the agent's channel was made: acd117's originate."""
    return at(next(e for e in ami.events[after:] if e.get("Event") == "Newchannel"
                   and e.get("Channel", "").startswith(f"PJSIP/{phone}-")))


async def test_the_agents_phone_rings_during_the_welcome_and_the_answer_cuts_it_short(
        acd117, phones, ami, asterisk):
    long = welcome_s(asterisk)
    assert long > 6  # the example's welcome, not the suite's one-word one
    acd = await acd117(FULL_WELCOME)
    phone = await ready_agent(acd, phones, "1001", answer="manual")
    mark, log = ami.mark(), asterisk.log_mark()

    call_id = await dial_117(ami)
    await phone.wait_event("CALL_INCOMING", timeout=10)
    assert "acd117/welcome" in await asterisk.wait_log("acd117/welcome", log, timeout=5)
    await phone.accept()
    bridged = await ami.bridged_with(call_id, "PJSIP/1001-", after=mark, timeout=10)

    entry, ring = entered(ami, call_id, mark), rung(ami, "1001", mark)
    assert ring - entry < long / 2, "the phone waited for the welcome"
    assert at(bridged) - entry < long - 2, "the caller heard the whole welcome first"
    await ami.hang_up_caller(call_id)


async def test_a_welcome_heard_in_full_holds_the_phones_until_it_has_played(
        acd117, phones, ami, asterisk):
    long = welcome_s(asterisk)
    acd = await acd117({"announcements": {"announcements": {
        "welcome": "welcome", "prompts": {"welcome": {"heard_in_full": True}}}}})
    await ready_agent(acd, phones, "1001")  # answers at once
    mark = ami.mark()

    call_id = await dial_117(ami)
    bridged = await ami.bridged_with(call_id, "PJSIP/1001-", after=mark, timeout=20)
    entry, ring = entered(ami, call_id, mark), rung(ami, "1001", mark)
    assert ring - entry >= long - 0.5, "a phone rang before the welcome had played"
    assert at(bridged) >= ring
    await ami.hang_up_caller(call_id)
