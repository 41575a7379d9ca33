"""Fixtures for the Asterisk adapter tests: the in-process Asterisk and clients for it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from ari.client import AriClient
from tests.ari.routing import RealCore
from tests.fakes.asterisk import FakeAsterisk
from tests.fakes.asterisk.swagger import ApiDocs, api_docs_dir, load_api_docs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk"


def load_transcript(name: str) -> list[dict[str, Any]]:
    """Records of a `.ari.jsonl` transcript copied from shared/asterisk/transcripts."""
    path = FIXTURES / f"{name}.ari.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def transcript_events(name: str, ws: str = "acd117") -> list[dict[str, Any]]:
    return [r["event"] for r in load_transcript(name) if r["dir"] == "event" and r["ws"] == ws]


@pytest.fixture(scope="session")
def api_docs() -> ApiDocs:
    docs = load_api_docs()
    if docs is None:
        pytest.skip(
            f"Asterisk's ARI documents are not at {api_docs_dir()} "
            "(set ACD117_ARI_API_DOCS to the ari-api-docs directory)"
        )
    return docs


@pytest.fixture
async def peer() -> AsyncIterator[FakeAsterisk]:
    async with FakeAsterisk() as fake:
        yield fake


@pytest.fixture
async def client(peer: FakeAsterisk) -> AsyncIterator[AriClient]:
    c = AriClient(peer.ari_url, peer.ari_user, peer.ari_password, timeout=2.0)
    yield c
    await c.close()


class StandIn:
    """Feeds the adapter's events to a function and carries out what it returns: for the
    tests of the adapter alone (a failing handler, commands given by hand)."""

    def __init__(self, core: Callable[[Any], Iterable[Any]]) -> None:
        self.core = core
        self.events: list[Any] = []
        self.executor: Callable[[Any], Any] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def emit(self, event: Any) -> None:
        self.events.append(event)
        for command in self.core(event):
            if self.executor is not None:
                task = asyncio.get_running_loop().create_task(self.executor(command))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    def start(self) -> None:
        pass

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        await self.drain()


class Rig:
    """acd117's Asterisk side wired to a peer: client, Stasis app, events stream, and the
    routing core (`RealCore`), or a `StandIn` function for the adapter alone."""

    def __init__(self, peer: FakeAsterisk, core: RealCore | Callable[[Any], Iterable[Any]],
                 **app_options: Any) -> None:
        from ari.events import AriEventStream, Backoff
        from ari.stasis import StasisApp

        self.peer = peer
        self.client = AriClient(peer.ari_url, peer.ari_user, peer.ari_password, timeout=2.0)
        self.core: RealCore | StandIn = core if isinstance(core, RealCore) else StandIn(core)
        app_options.setdefault("moh_grace_s", 0.01)
        app_options.setdefault("digit_timeouts_s", (1.0, 0.5))
        self.app = StasisApp(self.client, self.core.emit, **app_options)
        self.core.executor = self.app.execute
        self.stream = AriEventStream(
            self.client, "acd117", self.app.handle_ari_event, self.app.resync,
            backoff=Backoff(initial=0.01, maximum=0.05),
        )
        self._task: Any = None

    @property
    def events(self) -> list[Any]:
        return self.core.events

    async def start(self) -> Rig:
        self.core.start()
        self._task = asyncio.create_task(self.stream.run())
        await asyncio.wait_for(self.stream.connected.wait(), 2)
        return self

    async def settle(self) -> None:
        """Let every queued request and event run to completion."""
        for _ in range(3):
            await self.core.drain()
            await self.app.drain()
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        await self.stream.stop()
        if self._task is not None:
            await asyncio.wait_for(self._task, 2)
        await self.core.stop()
        await self.app.close()
        await self.client.close()


@pytest.fixture
async def rig_factory(peer: FakeAsterisk) -> AsyncIterator[Any]:
    rigs: list[Rig] = []

    async def make(core: Any, **options: Any) -> Rig:
        rig = await Rig(peer, core, **options).start()
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        await rig.stop()
