"""Fixtures of the integration suite: a real Asterisk 22 configured by acd117's own
`asterisk/install.sh`, real SIP phones (baresip), `acd117 run` as its own process, and a
real PostgreSQL.

Where the sandbox, baresip, espeak-ng or sox is missing the whole suite skips with one line
saying what is missing; in CI (`CI=true`) that is a failure instead.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.integration.ami import Ami
from tests.integration.asterisk import (
    ACD117,
    REPO,
    TEST_AMI_SECRET,
    TEST_AMI_USER,
    Sandbox,
    asterisk_ports,
    make_prompts,
    missing,
)
from tests.integration.daemon import Acd117, write_flows
from tests.integration.phones import Phone, PhoneAccount, PhoneBank

SUPERVISOR, SUPERVISOR_PASSWORD = "spv", "Supervisor2026"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    lacking = missing()
    if lacking is None:
        return
    here = Path(__file__).parent
    ours = [i for i in items if Path(str(i.fspath)).is_relative_to(here)]
    if not ours:
        return
    if os.environ.get("CI") == "true":
        raise pytest.UsageError(f"integration tests cannot run in CI: {lacking}")
    print(f"\nintegration tests skipped: {lacking}", file=sys.stderr)
    skip = pytest.mark.skip(reason=f"real Asterisk suite: {lacking}")
    for item in ours:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    root = tmp_path_factory.mktemp("asterisk")
    sounds = make_prompts(tmp_path_factory.mktemp("sounds"))
    with asterisk_ports():
        box = Sandbox.create(root / "ast", sounds)
        asyncio.run(box.start())
        try:
            yield box
        finally:
            asyncio.run(box.stop())


@pytest.fixture(scope="session")
def caller_audio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the phones send: two minutes of a quiet tone."""
    path = tmp_path_factory.mktemp("audio") / "voice.wav"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(path), "synth",
                    "120", "sine", "440", "vol", "0.1"], check=True)
    return path


@pytest.fixture
async def asterisk(sandbox: Sandbox) -> AsyncIterator[Sandbox]:
    """The sandbox's Asterisk, running, with no channel left from another test."""
    if not sandbox.running():
        await sandbox.start()
    yield sandbox
    if sandbox.running():
        sandbox.hang_up_everything()
    else:
        await sandbox.start()


@pytest.fixture
async def ami(asterisk: Sandbox) -> AsyncIterator[Ami]:
    session = Ami("127.0.0.1", 5038, TEST_AMI_USER, TEST_AMI_SECRET)
    await session.connect()
    yield session
    await session.close()


@pytest.fixture
async def phones(tmp_path: Path, caller_audio: Path, asterisk: Sandbox
                 ) -> AsyncIterator[Callable[..., Awaitable[Phone]]]:
    """`await phones("1001", answer="auto")`: an agent phone, registered."""
    bank = PhoneBank(tmp_path / "phones", caller_audio)

    async def phone(endpoint: str, answer: str = "manual", sip_port: int | None = None,
                    **kw: Any) -> Phone:
        password = kw.pop("password", asterisk.phone_passwords.get(endpoint, "none"))
        account = PhoneAccount(user=kw.pop("user", endpoint), password=password,
                               answer=answer, **kw)
        return await bank.add(endpoint, account, sip_port=sip_port)

    phone.bank = bank  # type: ignore[attr-defined]
    yield phone
    await bank.close()


@pytest.fixture
async def acd117(tmp_path: Path, asterisk: Sandbox, migrated_dsn: str
                 ) -> AsyncIterator[Callable[..., Awaitable[Acd117]]]:
    """`await acd117(changes)`: acd117 running against the sandbox with the test flows
    (and `changes` merged in), a migrated database and a supervisor account."""
    started: list[Acd117] = []
    subprocess.run([*ACD117, "user", "add", SUPERVISOR, "--role",
                    "supervisor", "--dsn", migrated_dsn], input=SUPERVISOR_PASSWORD + "\n",
                   text=True, check=True, capture_output=True, cwd=REPO)

    async def start(changes: dict[str, Any] | None = None, *, ready: bool = True,
                    **env: str) -> Acd117:
        flows = write_flows(tmp_path / f"flows-{len(started)}", changes)
        daemon = Acd117(tmp_path, asterisk, migrated_dsn, flows, **env)
        started.append(daemon)
        await daemon.start(ready=ready)
        if ready:
            await daemon.sign_in(SUPERVISOR, SUPERVISOR_PASSWORD)
        return daemon

    yield start
    for daemon in started:
        await daemon.stop()
    if started:  # shown by pytest only when the test failed: what acd117 saw
        log = started[-1].log_path
        print(f"--- {log} (the end)\n" + log.read_text(errors="replace")[-6000:])


@pytest.fixture
async def db(migrated_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """The test's database, as acd117 writes it."""
    conn = await asyncpg.connect(migrated_dsn)
    yield conn
    await conn.close()
