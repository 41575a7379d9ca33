"""Recording a connected call: the bridge recording the policy asks for, its ARI events,
and the recordings that ended while the websocket was down."""

from __future__ import annotations

import logging
from collections.abc import Callable

from acd.vocabulary.commands import StartRecording
from ari import adoption
from ari.client import AriClient, AriError, AriNotFound
from ari.legs import Legs
from ari.models import RecordingFailed, RecordingFinished, RecordingStarted, parse_ari_time
from ari.requests import KeyedLocks, Requests
from recording.hooks import Recordings
from recording.policy import LiveRecordingInfo, recording_name

log = logging.getLogger("ari.stasis")  # one logger for the whole Stasis app


class BridgeRecording:
    def __init__(self, client: AriClient, legs: Legs, requests: Requests, locks: KeyedLocks,
                 recordings: Recordings, *, clock: Callable[[], float]) -> None:
        self.client = client
        self.legs = legs
        self.requests = requests
        self.locks = locks
        self.recordings = recordings
        self.clock = clock

    async def start(self, cmd: StartRecording) -> None:
        policy = self.recordings.policy
        leg = self.legs.call(cmd.call_id)
        if leg is None:
            return
        name = recording_name(cmd.name)
        fmt = policy.written_format(cmd.format)  # mp3: wav now, a hook converts
        # Under the call's lock: a Bridge sent just before must have created the bridge.
        async with self.locks(cmd.call_id):
            if leg.bridge_id is None or not leg.in_stasis:
                log.warning("recording %s: call %s is not bridged", name, cmd.call_id)
                return
            self.recordings.begin(
                LiveRecordingInfo(
                    name=name,
                    call_id=cmd.call_id,
                    caller=leg.caller,
                    agent_id=cmd.agent_id,
                    centre_id=cmd.centre_id,
                    tier=cmd.tier,
                    format=fmt,
                    requested_format=cmd.format,
                )
            )
            try:
                await self.client.record_bridge(
                    leg.bridge_id,
                    name=name,
                    format=fmt,
                    if_exists=policy.if_exists,
                    max_duration_s=policy.max_duration_s,
                    beep=policy.beep or None,
                )
            except AriError as exc:
                log.error("recording %s for %s could not start: %s", name, cmd.call_id, exc)
                self.recordings.ended(name, state="failed", at=self.clock(), duration_s=None)
                return
            leg.recording = name
            await self.requests.set_call_variables(leg, {adoption.RECORDING_VAR: name})

    def on_started(self, ev: RecordingStarted) -> None:
        self.recordings.started(ev.recording.name, parse_ari_time(ev.timestamp) or self.clock())

    def on_finished(self, ev: RecordingFinished) -> None:
        # Ends by itself when the last channel leaves the bridge, state done, whole
        # seconds in `duration` [02, 14].
        rec = ev.recording
        self.recordings.ended(
            rec.name,
            state=rec.state or "done",
            at=parse_ari_time(ev.timestamp) or self.clock(),
            duration_s=float(rec.duration) if rec.duration is not None else None,
            fmt=rec.format or None,
        )

    def on_failed(self, ev: RecordingFailed) -> None:
        rec = ev.recording
        log.error("recording %s failed: %s", rec.name, rec.cause)
        self.recordings.ended(
            rec.name,
            state="failed",
            at=parse_ari_time(ev.timestamp) or self.clock(),
            duration_s=float(rec.duration) if rec.duration is not None else None,
            fmt=rec.format or None,
            cause=rec.cause,
        )

    async def ended_unseen(self) -> None:
        """A bridge recording ends by itself when the last channel leaves [02]; if that
        happened while the websocket was down, its RecordingFinished was lost [07]. Ask
        Asterisk: no longer live but stored means done, else it failed."""
        for name in self.recordings.live_names():
            try:
                await self.client.get_live_recording(name)
                continue  # still recording
            except AriNotFound:
                pass
            try:
                stored = await self.client.get_stored_recording(name)
            except AriNotFound:
                self.recordings.ended(name, state="failed", at=self.clock(), duration_s=None)
                continue
            self.recordings.ended(name, state="done", at=self.clock(), duration_s=None,
                                  fmt=stored.format or None)

    def adopt(self, info: LiveRecordingInfo) -> None:
        """Still recording the bridge of an adopted call: its RecordingFinished comes here."""
        self.recordings.adopt(info)
