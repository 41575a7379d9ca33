"""The national fallback queue's members, asked over AMI: an empty queue is loud."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence

import pytest
from panoramisk.message import Message

from ari.fallback import FallbackQueueCheck, QueueMembers, read_queue_status
from ari.runtime import AsteriskSettings, AsteriskSide
from tests.fakes.asterisk import FakeAsterisk


def answer(*members: tuple[str, str], queue: str = "national-fallback",
           exists: bool = True) -> list[Message]:
    """A QueueStatus answer as app_queue writes it (manager_queues_status)."""
    out = [Message({"Response": "Success", "EventList": "start",
                    "Message": "Queue status will follow"})]
    if exists:
        out.append(Message({"Event": "QueueParams", "Queue": queue, "Strategy": "ringall"}))
    for location, status in members:
        out.append(Message({"Event": "QueueMember", "Queue": queue, "Name": location,
                            "Location": location, "Membership": "static", "Status": status}))
    out.append(Message({"Event": "QueueStatusComplete", "EventList": "Complete",
                        "ListItems": str(len(out) - 1)}))
    return out


class Asterisk:
    """Answers QueueStatus with what it is given (a fake of AmiAdapter.request)."""

    def __init__(self, reply: Sequence[Message] | Exception) -> None:
        self.reply = reply
        self.asked: list[dict[str, str]] = []

    async def request(self, action: Mapping[str, str]) -> Sequence[Message]:
        self.asked.append(dict(action))
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply


def test_members_are_read_from_queue_status() -> None:
    state = read_queue_status("national-fallback", answer(("PJSIP/nas-01", "1"),
                                                          ("PJSIP/nas-02", "5")))
    assert state == QueueMembers(exists=True, members=("PJSIP/nas-01", "PJSIP/nas-02"),
                                 reachable=1)
    assert read_queue_status("national-fallback", answer()) == QueueMembers(True, (), 0)
    # A queue Asterisk does not know: no QueueParams, only the Complete event.
    assert read_queue_status("national-fallback", answer(exists=False)) == QueueMembers(
        False, (), 0)
    # Another queue's members are not the fallback's.
    assert read_queue_status("national-fallback", answer(("PJSIP/x", "1"), queue="other")) \
        == QueueMembers(False, (), 0)
    error = [Message({"Response": "Error", "Message": "Invalid/unknown command"})]
    assert read_queue_status("national-fallback", error) is None


async def test_a_fallback_queue_without_member_is_not_ok_and_logged_as_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    asterisk = Asterisk(answer())
    check = FallbackQueueCheck(asterisk.request)
    assert not check.ok  # not known yet
    with caplog.at_level(logging.ERROR, logger="ari.fallback"):
        await check.check()
    assert asterisk.asked == [{"Action": "QueueStatus", "Queue": "national-fallback"}]
    assert not check.ok and check.detail == "no member in national-fallback"
    [error] = caplog.records
    assert error.levelno == logging.ERROR
    assert "the queue national-fallback has no member" in error.getMessage()
    assert "acd117-site/queue-national-fallback.conf" in error.getMessage()

    asterisk.reply = answer(("PJSIP/nas-01", "1"))
    await check.check()
    assert check.ok and check.detail == "1 member(s) in national-fallback, 1 reachable"


async def test_a_missing_queue_or_a_failed_action_is_not_ok(
    caplog: pytest.LogCaptureFixture,
) -> None:
    check = FallbackQueueCheck(Asterisk(answer(exists=False)).request)
    with caplog.at_level(logging.ERROR, logger="ari.fallback"):
        await check.check()
    assert not check.ok and check.detail == "Asterisk has no queue national-fallback"
    assert "Asterisk has no queue national-fallback" in caplog.text

    check = FallbackQueueCheck(Asterisk([Message({"Response": "Error",
                                                  "Message": "Invalid/unknown command"})]).request)
    await check.check()
    assert not check.ok and "is app_queue loaded?" in caplog.text


async def test_members_all_unavailable_are_ok_but_warned_about(
    caplog: pytest.LogCaptureFixture,
) -> None:
    check = FallbackQueueCheck(Asterisk(answer(("PJSIP/nas-01", "5"), ("PJSIP/nas-02", "4")))
                               .request)
    with caplog.at_level(logging.WARNING, logger="ari.fallback"):
        await check.check()
    assert check.ok
    [warning] = caplog.records
    assert warning.levelno == logging.WARNING and "PJSIP/nas-01, PJSIP/nas-02" in warning.message


async def test_no_answer_keeps_what_was_known() -> None:
    asterisk = Asterisk(answer(("PJSIP/nas-01", "1")))
    check = FallbackQueueCheck(asterisk.request, timeout_s=0.01)
    await check.check()
    asterisk.reply = ConnectionError("AMI not logged in")
    await check.check()
    assert check.ok  # AMI's own readiness check says it is down

    class Silent:
        async def request(self, action: Mapping[str, str]) -> Sequence[Message]:
            await asyncio.sleep(10)
            return []

    silent = FallbackQueueCheck(Silent().request, timeout_s=0.01)
    await silent.check()
    assert silent.state is None and not silent.ok


async def test_the_check_runs_when_woken_and_then_every_interval_while_logged_in() -> None:
    asterisk = Asterisk(answer(("PJSIP/nas-01", "1")))
    check = FallbackQueueCheck(asterisk.request, every_s=0.05)
    logged_in = asyncio.Event()
    task = asyncio.create_task(check.run(logged_in))
    try:
        check.wake()
        await asyncio.sleep(0.02)
        assert asterisk.asked == []  # not logged in: nothing asked
        logged_in.set()
        check.wake()
        await asyncio.sleep(0.01)
        assert len(asterisk.asked) == 1 and check.ok
        await asyncio.sleep(0.12)
        assert len(asterisk.asked) >= 3  # and again every interval
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def side_for(peer: FakeAsterisk) -> AsteriskSide:
    return AsteriskSide(
        AsteriskSettings(ari_url=peer.ari_url, ari_user=peer.ari_user,
                         ari_password=peer.ari_password, ami_port=peer.ami_port,
                         ami_user=peer.ami_user, ami_secret=peer.ami_secret),
        lambda event: None,
    )


async def test_after_the_ami_login_the_asterisk_side_asks_for_the_fallback_queue(
    peer: FakeAsterisk, caplog: pytest.LogCaptureFixture,
) -> None:
    peer.queue_members["national-fallback"] = []  # no site file: no member
    side = side_for(peer)
    task = asyncio.create_task(side.run())
    try:
        with caplog.at_level(logging.ERROR, logger="ari.fallback"):
            await peer.wait_for(lambda: side.fallback.state is not None, what="QueueStatus")
        assert not side.fallback.ok
        assert "has no member" in caplog.text

        peer.queue_members["national-fallback"] = ["PJSIP/nas-01"]  # site file, queue reload
        await side.fallback.check()
        assert side.fallback.ok
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
