"""Re-enact a recorded Asterisk scenario through the Stasis adapter.

The transcript (`tests/fixtures/asterisk/NN-name.ari.jsonl`) holds what the recording
daemon asked and what Asterisk sent. The replay turns the recorded daemon's requests into
the core commands that would have caused them (RingAgent for an originate, StopRinging or
HangUp for a DELETE, ...) and executes them through `StasisApp`, at the same points in
the event stream; Asterisk's events are fed in their recorded order. Requests the adapter
sends are answered by a small HTTP server from the recorded responses (originate: the
recorded 200 or 500; play: the recorded playback, renamed to the adapter's id; resync
GETs: the recorded answer closest in time), everything else with a plain success.
The adapter's domain events are what the tests assert.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from acd.vocabulary.commands import (
    Answer,
    Bridge,
    HangUp,
    PlayPrompt,
    RingAgent,
    StartRecording,
    StopReason,
    StopRinging,
)
from acd.vocabulary.tiers import Tier
from ari.adoption import AdapterCommand, AdapterEvent
from ari.client import AriClient
from ari.events import Deduplicator
from ari.stasis import StasisApp
from recording.hooks import RecordingMetadata, Recordings
from tests.ari.conftest import load_transcript

STOP_FOR_REASON: dict[str | None, StopReason] = {
    "answered_elsewhere": "answered_elsewhere",
    "no_answer": "no_answer",
    "normal": "caller_left",
    None: "caller_left",
}


@dataclass
class ReplayServer:
    records: list[dict[str, Any]]
    cursor_t: float = 0.0
    originates: dict[str, tuple[int, Any]] = field(default_factory=dict)  # offer -> answer
    plays: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)  # call -> answers
    playback_ids: dict[str, str] = field(default_factory=dict)  # recorded id -> adapter id
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    bodies: list[Any] = field(default_factory=list)  # JSON bodies, one per request
    runner: web.AppRunner | None = None
    url: str = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/ari/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/ari"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def has_events_ahead(self, playback_id: str) -> bool:
        return any(
            r["dir"] == "event" and r["tr"] > self.cursor_t
            and r["event"].get("playback", {}).get("id") == playback_id
            for r in self.records
        )

    def channels_now(self) -> list[dict[str, Any]]:
        """GET /channels as Asterisk would answer now: the channels of the app (from the
        recorded GET /applications closest in time), as last seen in the recording."""
        app = self.recorded_answer("GET", "/ari/applications/acd117")
        ids = app[1].get("channel_ids", []) if app and app[0] == 200 else []
        latest: dict[str, dict[str, Any]] = {}
        for r in self.records:
            if r["tr"] > self.cursor_t:
                break
            for snap in _channel_snapshots(r):
                latest[snap["id"]] = snap
        return [latest[i] for i in ids if i in latest]

    def recorded_answer(self, method: str, path: str) -> tuple[int, Any] | None:
        """The recorded answer to `method path` closest in time to the replay position."""
        by_id = {r["id"]: r for r in self.records if r["dir"] == "response"}
        best: tuple[float, tuple[int, Any]] | None = None
        for r in self.records:
            if r["dir"] == "request" and r["method"] == method and r["path"] == path:
                resp = by_id.get(r["id"])
                if resp is None or resp["status"] is None:
                    continue
                distance = abs(r["tr"] - self.cursor_t)
                if best is None or distance < best[0]:
                    best = (distance, (resp["status"], resp["body"]))
        return best[1] if best else None

    async def handle(self, request: web.Request) -> web.Response:
        path = "/ari/" + request.match_info["tail"]
        query = dict(request.query)
        text = await request.text() if request.can_read_body else ""
        self.requests.append((request.method, path, query))
        self.bodies.append(json.loads(text) if text else None)
        status, body = self.answer(request.method, path, query)
        if status == 204:
            return web.Response(status=204)
        return web.json_response(body, status=status)

    def answer(self, method: str, path: str, query: dict[str, str]) -> tuple[int, Any]:
        parts = path.split("/")[2:]
        if method == "POST" and parts == ["channels"]:
            return self.originates.pop(query.get("channelId", ""), (500, {"error": "unknown"}))
        if method == "POST" and parts[:1] == ["channels"] and parts[-1] == "play":
            queued = self.plays.get(parts[1]) or [(201, {"id": "x", "state": "queued"})]
            status, body = queued.pop(0)
            if isinstance(body, dict) and "id" in body:
                self.playback_ids[body["id"]] = query["playbackId"]
                body = {**body, "id": query["playbackId"]}
            return status, body
        if method == "GET" and parts[:1] == ["playbacks"]:
            recorded = next((r for r, o in self.playback_ids.items() if o == parts[1]), None)
            if recorded is not None and self.has_events_ahead(recorded):
                return 200, {"id": parts[1], "media_uri": "", "target_uri": "", "state": "playing"}
            # Finished; if while the websocket was down, its events were lost [07].
            return 404, {"message": "Playback not found"}
        if method == "GET" and parts == ["channels"]:
            return 200, self.channels_now()
        if method == "GET" and parts[-1:] == ["variable"]:
            return 404, {"message": "Provided variable was not found"}
        if method == "GET":
            recorded = self.recorded_answer(method, path)
            if recorded is not None:
                return recorded
            if parts[:1] == ["applications"]:
                return 200, {"name": parts[1], "channel_ids": [], "bridge_ids": []}
            return 200, []
        if method == "POST" and parts == ["bridges"]:
            return 200, {"id": query.get("bridgeId", "b"), "channels": []}
        if method == "POST" and parts[-1:] == ["record"]:
            return 201, {"name": query["name"], "format": query["format"], "state": "queued"}
        return 204, None


def _channel_snapshots(record: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if record["dir"] == "event":
        for key in ("channel", "peer"):
            snap = record["event"].get(key)
            if isinstance(snap, dict) and "id" in snap and "name" in snap:
                found.append(snap)
    elif record["dir"] == "response":
        body = record.get("body")
        items = body if isinstance(body, list) else [body]
        found += [b for b in items if isinstance(b, dict) and "id" in b and "dialplan" in b]
    return found


@dataclass
class Replay:
    """The outcome of one re-enacted scenario."""

    events: list[AdapterEvent]
    commands: list[AdapterCommand]
    requests: list[tuple[str, str, dict[str, str]]]
    recordings: list[RecordingMetadata]
    bodies: list[Any] = field(default_factory=list)


async def replay(scenario: str, ws: str = "acd117") -> Replay:
    records = load_transcript(scenario)
    server = ReplayServer(records)
    await server.start()
    client = AriClient(server.url, "acd117", "test")
    events: list[AdapterEvent] = []
    recordings = Recordings()
    app = StasisApp(client, events.append, recordings=recordings, moh_grace_s=0.0)
    dedupe = Deduplicator()
    responses = {r["id"]: r for r in records if r["dir"] == "response"}
    calls: list[str] = []  # caller channels, in arrival order
    ended: set[str] = set()
    agents: dict[str, tuple[str, str]] = {}  # agent channel -> (call, agent id)
    answered: set[str] = set()
    commands: list[AdapterCommand] = []
    n_offers = 0
    first_connect = True

    async def run(command: AdapterCommand) -> None:
        commands.append(command)
        await app.execute(command)
        await app.drain()

    def call_of(channel: str) -> str | None:
        if channel in calls:
            return channel
        return agents.get(channel, (None, ""))[0]

    try:
        for rec in records:
            server.cursor_t = rec["tr"]
            if rec["dir"] == "ws" and rec.get("ws") == ws and rec["what"] == "connected":
                if not first_connect:
                    await app.resync()
                first_connect = False
            elif rec["dir"] == "event" and rec["ws"] == ws:
                text = json.dumps(rec["event"])
                for recorded, ours in server.playback_ids.items():
                    text = text.replace(json.dumps(recorded), json.dumps(ours))
                if dedupe.seen(text):
                    continue
                event = json.loads(text)
                if event["type"] == "StasisStart" and event["args"][:1] == ["inbound"]:
                    calls.append(event["channel"]["id"])
                if event["type"] == "StasisStart" and event["args"][:1] == ["agent"]:
                    answered.add(event["channel"]["id"])
                if event["type"] == "StasisEnd":
                    ended.add(event["channel"]["id"])
                await app.handle_ari_event(event)
                await app.drain()
            elif rec["dir"] == "request":
                method, path, query = rec["method"], rec["path"], rec["query"]
                parts = path.split("/")[2:]
                resp = responses.get(rec["id"])
                if method == "POST" and parts == ["channels"] and query.get("app") == "acd117":
                    args = query.get("appArgs", "").split(",")
                    if args[0] not in ("agent", ""):
                        continue  # supervisor legs: not a core command
                    live = [c for c in calls if c not in ended]
                    call = live[-1] if live else (args[1] if len(args) > 1 else "no-call")
                    n_offers += 1
                    answered_id = resp["body"]["id"] if resp and resp["status"] == 200 else None
                    offer = query.get("channelId") or answered_id or f"offer-{n_offers}"
                    agent_id = "agent-" + query["endpoint"].split("/")[-1]
                    agents[offer] = (call, agent_id)
                    server.originates[offer] = (resp["status"], resp["body"]) if resp else (500, {})
                    await run(
                        RingAgent(call, offer, agent_id, query["endpoint"], "+6281234567890",
                                  "32.73", "Kota Bandung", Tier.KABKOTA,
                                  float(query.get("timeout", "30")))
                    )
                elif method == "POST" and parts[:1] == ["channels"] and parts[2:] == ["answer"]:
                    await run(Answer(parts[1]))
                elif method == "POST" and parts[:1] == ["channels"] and parts[2:] == ["play"]:
                    call = parts[1]
                    if call not in calls or resp is None:
                        continue
                    server.plays.setdefault(call, []).append((resp["status"], resp["body"]))
                    prompt = query["media"].split(",")[0].removeprefix("sound:")
                    await run(PlayPrompt(call, prompt))
                elif method == "DELETE" and parts[:1] == ["channels"] and len(parts) == 2:
                    channel = parts[1]
                    if channel in calls:
                        await run(HangUp(channel, "caller"))
                    elif channel in agents:
                        call, _ = agents[channel]
                        if channel in answered and query.get("reason") != "answered_elsewhere":
                            await run(HangUp(call, "agent"))
                        else:
                            await run(StopRinging(channel, STOP_FOR_REASON[query.get("reason")]))
                elif method == "POST" and parts[:1] == ["bridges"] and parts[2:] == ["addChannel"]:
                    for channel in query["channel"].split(","):
                        if channel in agents:
                            call, agent_id = agents[channel]
                            await run(Bridge(call, channel, agent_id))
                elif method == "POST" and parts[:1] == ["bridges"] and parts[2:] == ["record"]:
                    call = next((c for c in reversed(calls)), "")
                    agent = next(
                        (a for ch, (c, a) in agents.items() if c == call and ch in answered), ""
                    )
                    await run(StartRecording(call, query["name"], query["format"], agent,
                                             "centre-3273", Tier.KABKOTA))
        await app.drain()
        await recordings.drain()
    finally:
        await client.close()
        await server.stop()
    return Replay(events, commands, server.requests, list(recordings.finished), server.bodies)
