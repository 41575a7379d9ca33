"""Fixtures for the Asterisk adapter tests: the in-process Asterisk and clients for it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ari.client import AriClient
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


class Rig:
    """acd117's Asterisk side wired to a peer: client, Stasis app, events stream, and a
    core stand-in (anything that maps an event to commands)."""

    def __init__(self, peer: FakeAsterisk, core: Any, **app_options: Any) -> None:
        from ari.events import AriEventStream, Backoff
        from ari.stasis import StasisApp
        from tests.fakes.scripted_core import CoreHarness

        self.peer = peer
        self.client = AriClient(peer.ari_url, peer.ari_user, peer.ari_password, timeout=2.0)
        self.harness = CoreHarness(core)
        app_options.setdefault("moh_grace_s", 0.01)
        app_options.setdefault("digit_timeouts_s", (1.0, 0.5))
        self.app = StasisApp(self.client, self.harness.emit, **app_options)
        self.harness.executor = self.app.execute
        self.stream = AriEventStream(
            self.client, "acd117", self.app.handle_ari_event, self.app.resync,
            backoff=Backoff(initial=0.01, maximum=0.05),
        )
        self._task: Any = None

    @property
    def events(self) -> list[Any]:
        return self.harness.events

    async def start(self) -> Rig:
        import asyncio

        self._task = asyncio.create_task(self.stream.run())
        await asyncio.wait_for(self.stream.connected.wait(), 2)
        return self

    async def settle(self) -> None:
        """Let every queued request and event run to completion."""
        import asyncio

        for _ in range(3):
            await self.harness.drain()
            await self.app.drain()
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        import asyncio

        await self.stream.stop()
        if self._task is not None:
            await asyncio.wait_for(self._task, 2)
        await self.app.close()
        await self.harness.drain()
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
