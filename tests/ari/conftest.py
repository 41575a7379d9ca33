"""Fixtures for the Asterisk adapter tests: the in-process Asterisk and clients for it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ari.client import AriClient
from ari.swagger import ApiDocs, api_docs_dir, load_api_docs
from ari.testing import FakeAsterisk

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
