"""Recording hooks: policy, naming, metadata hand-off, post-recording hooks."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from acd.vocabulary.events import RingAnswered
from acd.vocabulary.tiers import Tier
from recording import (
    ExternalCommandHook,
    LiveRecordingInfo,
    RecordingMetadata,
    RecordingPolicy,
    Recordings,
    recording_name,
)
from tests.ari.routing import RealCore, call_flows
from tests.fakes.asterisk import FakeAsterisk


def info(name: str = "call-1") -> LiveRecordingInfo:
    return LiveRecordingInfo(name=name, call_id="c1", caller="+6281234567890", agent_id="a1",
                             centre_id="bandung", tier=Tier.KABKOTA, format="wav")


def test_recording_names_come_from_the_call_id_and_stay_in_the_spool() -> None:
    assert recording_name("1795380555.22") == "1795380555.22"
    assert recording_name("../../etc/passwd") == "_.._etc_passwd"
    assert recording_name("") == "call"


async def test_metadata_sink_then_hooks_run_in_order_and_a_failing_hook_is_isolated() -> None:
    seen: list[str] = []

    async def sink(meta: RecordingMetadata) -> None:
        seen.append(f"sink:{meta.name}:{meta.duration_s}")

    async def broken(meta: RecordingMetadata) -> None:
        raise OSError("archive unreachable")

    async def archive(meta: RecordingMetadata) -> None:
        seen.append(f"archive:{meta.path}")

    recordings = Recordings(on_metadata=sink, post_hooks=[broken, archive])
    recordings.begin(info())
    recordings.started("call-1", 1000.0)
    meta = recordings.ended("call-1", state="done", at=1007.0, duration_s=7.0)
    await recordings.drain()
    assert meta is not None and meta.started_at == 1000.0
    assert seen == ["sink:call-1:7.0", "archive:/var/spool/asterisk/recording/call-1.wav"]


async def test_failed_recordings_are_reported_but_not_post_processed() -> None:
    sunk: list[RecordingMetadata] = []
    hooked: list[str] = []

    async def hook(meta: RecordingMetadata) -> None:
        hooked.append(meta.name)

    recordings = Recordings(on_metadata=sunk.append, post_hooks=[hook])
    recordings.begin(info())
    recordings.ended("call-1", state="failed", at=1.0, duration_s=None, cause="disk full")
    await recordings.drain()
    assert [m.state for m in sunk] == ["failed"] and hooked == []


async def test_start_time_is_derived_from_the_end_and_the_duration() -> None:
    recordings = Recordings()
    recordings.begin(info())  # RecordingStarted was missed (e.g. during a reconnect)
    meta = recordings.ended("call-1", state="done", at=1010.0, duration_s=7.0)
    assert meta is not None and meta.started_at == 1003.0


async def test_external_command_gets_the_file_and_the_metadata(tmp_path: Path) -> None:
    out = tmp_path / "hook.txt"
    script = (
        "import os, sys; open(sys.argv[1], 'w').write("
        "' '.join([os.environ['ACD117_RECORDING_CALL_ID'], os.environ['ACD117_RECORDING_TIER'],"
        " os.environ['ACD117_RECORDING_AGENT_ID'], sys.argv[2]]))"
    )
    hook = ExternalCommandHook([sys.executable, "-c", script, str(out)])
    recordings = Recordings(post_hooks=[hook])
    recordings.begin(info())
    recordings.ended("call-1", state="done", at=1.0, duration_s=1.0)
    await recordings.drain()
    assert out.read_text() == "c1 kabkota a1 /var/spool/asterisk/recording/call-1.wav"


async def test_external_command_failure_is_an_error() -> None:
    hook = ExternalCommandHook([sys.executable, "-c", "import sys; sys.exit(3)"])
    meta = Recordings()
    meta.begin(info())
    result = meta.ended("call-1", state="done", at=1.0, duration_s=1.0)
    assert result is not None
    with pytest.raises(RuntimeError, match="exited 3"):
        await hook(result)
    await meta.drain()


async def test_calls_the_call_flows_do_not_record_are_not_recorded(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    peer.register("PJSIP/1001")
    flows = call_flows()
    flows = flows.model_copy(update={"recording": flows.recording.model_copy(
        update={"services": ["informasi"]})})
    rig = await rig_factory(RealCore(flows=flows))
    await peer.incoming_call()
    await peer.wait_for(lambda: RingAnswered("offer-1") in rig.events)
    await rig.settle()
    assert not any(r.path.endswith("/record") for r in peer.requests)


async def test_a_recording_that_cannot_start_is_reported_failed(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    peer.register("PJSIP/1001")
    peer.stored_recordings["same-name"] = "wav"
    sunk: list[RecordingMetadata] = []
    rig = await rig_factory(
        RealCore(),  # the core names a call's recording after the call
        recordings=Recordings(policy=RecordingPolicy(if_exists="fail"), on_metadata=sunk.append),
    )
    await peer.incoming_call(channel_id="same-name")
    await peer.wait_for(lambda: sunk, what="failed recording reported")
    await asyncio.sleep(0)
    assert sunk[0].state == "failed" and sunk[0].name == "same-name"
    assert rig.app.calls  # the call itself goes on


async def test_mp3_is_recorded_as_wav_and_marked_for_conversion(
    peer: FakeAsterisk, rig_factory: Any
) -> None:
    peer.register("PJSIP/1001")
    sunk: list[RecordingMetadata] = []
    rig = await rig_factory(RealCore(recording_format="mp3"),
                            recordings=Recordings(on_metadata=sunk.append))
    call = await peer.incoming_call()
    await peer.wait_for(lambda: RingAnswered("offer-1") in rig.events)
    await rig.settle()
    [record] = [r for r in peer.requests if r.path.endswith("/record")]
    assert record.query["format"] == "wav"  # Asterisk writes no mp3 by itself
    await peer.caller_hangs_up(call or "")
    await peer.wait_for(lambda: sunk, what="metadata")
    assert (sunk[0].format, sunk[0].requested_format, sunk[0].needs_conversion) == (
        "wav", "mp3", True)
