"""Reading back who is logged in where: the fold of agent states, the database, the spool's
pending records on top of it, and the logins file."""

from __future__ import annotations

from pathlib import Path

from structlog.testing import capture_logs

from acd.store.logins import (
    LOGINS_FILE,
    AgentLogin,
    LoginBook,
    LoginFile,
    LoginKeeper,
    logins_in_database,
    spooled_agent_states,
)
from acd.store.spool import Spool
from acd.vocabulary.records import AgentStateChanged, AgentStateName, CallStarted
from tests.store.db import write

T0 = 1_800_000_000.0


def state(agent: str, st: AgentStateName, at: float, reason: str | None = None,
          device: str | None = None, call_id: str | None = None) -> AgentStateChanged:
    return AgentStateChanged(agent, "bdg", st, reason, device or f"PJSIP/{agent}", T0 + at,
                             call_id)


# A day's story: 1001 logs in, takes a call, is on the phone at the crash; 1002 pauses,
# moves to another desk while paused; 1003 logs in and out again.
STORY = [
    state("1001", "available", 0, "login"),
    state("1002", "available", 1, "login"),
    state("1003", "available", 2, "login"),
    state("1002", "paused", 3, "break"),
    state("1001", "ringing", 4, call_id="c1"),
    state("1001", "on_call", 5, call_id="c1"),
    state("1002", "paused", 6, "device_changed", device="PJSIP/desk-9"),
    state("1003", "logged_out", 7, "agent"),
]
EXPECTED = [AgentLogin("1001", "PJSIP/1001"), AgentLogin("1002", "PJSIP/desk-9", "break")]


def test_the_fold_keeps_logins_not_activity_and_the_pause_reason_across_a_desk_change():
    book = LoginBook()
    changed = [book.apply(r) for r in STORY]
    assert book.logins == EXPECTED
    assert changed == [True, True, True, True, False, False, True, True]


def test_the_fold_orders_agents_by_when_they_took_their_phone():
    book = LoginBook()
    for r in (state("1001", "available", 0, "login", device="PJSIP/shared"),
              state("1001", "on_call", 1, call_id="c1", device="PJSIP/shared"),
              state("1002", "available", 2, "login", device="PJSIP/shared"),
              state("1001", "available", 3, device="PJSIP/shared")):
        book.apply(r)
    assert [x.agent_id for x in book.logins] == ["1001", "1002"]  # 1002 took it last


async def test_the_database_says_who_is_logged_in_with_the_pause_reason(migrated_dsn: str):
    await write(migrated_dsn, STORY)
    assert (await logins_in_database(migrated_dsn)).logins == EXPECTED


def test_only_the_spool_records_not_yet_committed_are_read(tmp_path: Path):
    spool = Spool(tmp_path)
    spool.append(STORY[:4])
    spool.commit(spool.read(4))  # in the database already
    spool.append([*STORY[4:6], CallStarted("c1", "+62", None, "other", "mobile", 0, "32.73",
                                           "test", "darurat", None, None, T0)])
    spool.append(STORY[6:])
    spool.close()
    assert spooled_agent_states(tmp_path) == STORY[4:]
    assert spooled_agent_states(tmp_path / "none") == []  # no spool yet: nothing, none made
    assert not (tmp_path / "none").exists()


async def test_records_still_in_the_spool_go_on_top_of_the_database(tmp_path: Path,
                                                                  migrated_dsn: str):
    await write(migrated_dsn, STORY[:4])  # committed before the crash
    spool = Spool(tmp_path)
    spool.append(STORY[3:])  # one written twice (its commit acknowledgement lost)
    spool.close()
    found = await LoginKeeper(tmp_path, migrated_dsn).load()
    assert (found.logins, found.source) == (EXPECTED, "database+spool")


async def test_the_logins_file_is_written_when_logins_change_and_read_back(tmp_path: Path):
    file = LoginFile(tmp_path / LOGINS_FILE, settle_s=0.0)
    for r in STORY:
        file.observe(r)
    file.flush()
    book = LoginFile(tmp_path / LOGINS_FILE).read()
    assert book is not None and book.logins == EXPECTED
    found = await LoginKeeper(tmp_path, None).load()
    assert (found.logins, found.source) == (EXPECTED, "file")


def test_an_unreadable_logins_file_is_not_used(tmp_path: Path):
    (tmp_path / LOGINS_FILE).write_text("{not json")
    with capture_logs() as logs:
        assert LoginFile(tmp_path / LOGINS_FILE).read() is None
    assert [x["event"] for x in logs] == ["logins file unreadable; not used"]


def test_an_agent_who_takes_their_phone_back_is_restored_last_so_it_stays_theirs():
    # 1002 is ringing at the shared phone when 1001 logs in there, then 1002 logs in at it
    # again (a device change to the same phone): the phone is 1002's.
    book = LoginBook()
    for r in [state("1002", "available", 0, "login", device="PJSIP/shared"),
              state("1002", "ringing", 1, device="PJSIP/shared", call_id="c1"),
              state("1001", "available", 2, "login", device="PJSIP/shared"),
              state("1002", "ringing", 3, "device_changed", device="PJSIP/shared",
                    call_id="c1")]:
        book.apply(r)
    assert [login.agent_id for login in book.logins] == ["1001", "1002"]
