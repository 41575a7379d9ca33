"""The daemon's telephony, when `bootstrap()` is given none: the simulated callers and
agents (`--simulate`, acd.people.demo) or the Asterisk adapters (ari.telephony), with the
recordings Asterisk writes. Building them connects nothing: the supervisor runs the
telephony's `run()` once the daemon starts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from acd.bootstrap.errors import StartupError
from acd.domain.core import Acd
from acd.http.metrics import Metrics
from acd.people.demo import DemoTraffic, SimulatedTelephony
from acd.service.health import Health
from acd.service.ports import Telephony
from acd.service.settings import Settings
from config.models import CallFlows

if TYPE_CHECKING:
    from acd.store.writer import StoreWriter
    from recording.hooks import Recordings


def simulated(settings: Settings, flows: CallFlows, health: Health, *, seed: int | None,
              time_scale: float) -> Telephony:
    """The simulated callers and agents of `acd117 run --simulate`, on the wall clock."""
    return SimulatedTelephony(
        flows, DemoTraffic(calls_per_hour=settings.demo_calls_per_hour), seed=seed,
        time_scale=time_scale, health=health)


def asterisk(settings: Settings, acd: Acd, writer: StoreWriter | None,
             metrics: Metrics) -> Telephony:
    """The Asterisk adapters (ARI call control, AMI phone state), from ACD117_ARI_* and
    ACD117_AMI_*; agents' phone-login PINs are checked against the call flows."""
    if not settings.asterisk_configured:
        raise StartupError(
            "Asterisk is not configured: set ACD117_ARI_URL, ACD117_ARI_USER, "
            "ACD117_ARI_PASSWORD, ACD117_AMI_HOST, ACD117_AMI_USER and ACD117_AMI_SECRET "
            "(or run `acd117 run --simulate` for simulated callers and agents)")
    from acd.service.pins import pin_checker
    from ari.runtime import AsteriskSettings
    from ari.telephony import AsteriskTelephony

    config = AsteriskSettings.from_settings(settings)

    def in_force() -> CallFlows:  # a reload reaches the prompts and the PINs at once
        return acd.flows

    return AsteriskTelephony(config, in_force, verify_pin=pin_checker(in_force),
                             agent_at_device=acd.agent_at, login_refusal=acd.login_refusal,
                             wrap_up_refusal=acd.wrap_up_refusal,
                             pause_reason=lambda typed: in_force().pause_code(typed),
                             recordings=recordings(settings, writer, metrics))


def recordings(settings: Settings, writer: StoreWriter | None, metrics: Metrics) -> Recordings:
    """Recordings are looked for where the settings say Asterisk writes them, the folder
    the recordings API serves (ACD117_RECORDINGS_DIR; acd117 runs on the Asterisk host).
    With a database, each finished one is checksummed and stored (acd.store.recordings)."""
    from recording.hooks import RecordingPolicy, Recordings

    policy = RecordingPolicy(spool_dir=str(settings.recordings_dir.absolute()))
    if writer is None:
        return Recordings(policy=policy)
    from acd.store.recordings import RecordingSink

    sink = RecordingSink(writer, on_unreadable=metrics.recording_unreadable)
    return Recordings(policy=policy, on_metadata=sink)
