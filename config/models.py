"""The call flows admins edit, as validated, frozen pydantic models.

A config folder holds YAML files; each file contributes one or more top-level sections
(`centres`, `agents`, `ingress`, `escalation`, `callers`, `announcements`, `recording`,
`transfers`, `wrapup`, `pauses`).
`config.loader.load_flows` merges them into one `CallFlows` and checks the cross references
(regions exist, agents belong to known centres, prompts are defined).
"""

from __future__ import annotations

import re
from datetime import date, time
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from acd.vocabulary.tiers import Tier
from config.wrapup import PauseReason, WrapUp, check_pauses


class Model(BaseModel):
    # Frozen so a running daemon can share one config object safely; `forbid` so a typo in a
    # key ("ring_timout_s") is an error, not a silently ignored setting.
    model_config = ConfigDict(frozen=True, extra="forbid")


Name = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=64)]
RegionCode = Annotated[str, StringConstraints(pattern=r"^(ID|\d{2}(\.\d{2})?)$")]
E164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9]\d{6,14}$")]
# A phone of a centre: a PJSIP endpoint name (`PJSIP/1001`), or a pattern of them where `*`
# stands for any characters and `?` for one (`PJSIP/10??`, `PJSIP/sup-*`).
PhonePattern = Annotated[str, StringConstraints(pattern=r"^PJSIP/[A-Za-z0-9_.*?-]{1,64}$")]


class Strategy(StrEnum):
    LONGEST_IDLE = "longest_idle"  # the agent idle the longest since their last call
    FEWEST_CALLS = "fewest_calls"  # the agent who answered the fewest calls this session
    ROUND_ROBIN = "round_robin"  # the agent offered a call the longest time ago
    RING_ALL = "ring_all"  # every eligible available agent at once; first to answer wins


class Queue(Model):
    """How one centre distributes calls for one service (e.g. `darurat`, emergency)."""

    service: Name
    # Skills a call needs, with the minimum level (1-10) an agent must have in each.
    skills: dict[Name, Annotated[int, Field(ge=1, le=10)]] = Field(min_length=1)
    strategy: Strategy = Strategy.LONGEST_IDLE
    ring_timeout_s: Annotated[float, Field(gt=0, le=120)] = 15
    wrap_up_s: Annotated[float, Field(ge=0, le=3600)] = 30
    # Asterisk app_queue's "autopause": an agent who lets a call ring out is paused so the
    # next calls do not keep ringing an empty desk.
    pause_on_no_answer: bool = True
    # Ring a free agent while the welcome still plays (the agent's answer stops it), so the
    # caller's first seconds are not spent waiting for the prompt to end. Off: the call is
    # offered once the welcome has been heard, as app_queue after Playback() does.
    ring_during_welcome: bool = True


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class OpeningHours(Model):
    days: list[Weekday] = Field(min_length=1)
    open: time
    close: time

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.close <= self.open:
            raise ValueError("'close' must be later than 'open' (use two entries for overnight)")
        return self


class Centre(Model):
    """A Pusdalops contact centre answering for one region at one tier."""

    id: Name
    name: str
    region: RegionCode
    timezone: Literal["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"] = "Asia/Jakarta"
    # `always`, or the opening hours; a closed centre is skipped at once.
    hours: Literal["always"] | list[OpeningHours] = "always"
    queues: list[Queue] = Field(min_length=1)
    # The phones this centre's agents log in at (acd.domain.phones): listed, only this centre's
    # agents may sit at them and they may sit nowhere else; a centre listing none leaves
    # its agents free seating at any phone no centre lists.
    phones: list[PhonePattern] = []
    # The phones its supervisors listen, whisper and barge from; never an agent's phone.
    supervisor_phones: list[PhonePattern] = []

    @field_validator("queues")
    @classmethod
    def _unique_services(cls, queues: list[Queue]) -> list[Queue]:
        services = [q.service for q in queues]
        if len(services) != len(set(services)):
            raise ValueError("each service may have only one queue per centre")
        return queues


class Agent(Model):
    id: Annotated[str, StringConstraints(pattern=r"^\d{3,8}$")]  # keyed in on a phone keypad
    name: str
    centre: Name
    skills: dict[Name, Annotated[int, Field(ge=1, le=10)]] = Field(min_length=1)
    pin_hash: str | None = None  # hash of the phone-login PIN; never the PIN itself


# A SIP header name is an RFC 3261 `token`. Asterisk reads it with PJSIP_HEADER(read,<name>),
# where a final `*` makes the name a prefix (the first header starting with it) and `,` or
# `)` would end the argument: such a name cannot be read as the one header it names.
_HEADER_NAME = re.compile(r"[A-Za-z0-9.!%+_`'~-]+")


def readable_header(name: str) -> bool:
    """Whether `name` is a SIP header name that PJSIP_HEADER(read,...) reads as written."""
    return _HEADER_NAME.fullmatch(name) is not None


class IngressRule(Model):
    """Maps what arrives with a call to a region. Every condition given must hold.

    A `header` rule without `value` and `region` takes the region code from the header
    itself (for carriers that send the cell's Kemendagri code).
    """

    trunk: str | None = None
    did: str | None = None
    header: str | None = None
    value: str | None = None
    area_code: Annotated[str, StringConstraints(pattern=r"^\d{2,4}$")] | None = None
    region: RegionCode | None = None
    service: Name | None = None
    name: str | None = None  # shown in CDRs as the region source

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if not any((self.trunk, self.did, self.header, self.area_code)):
            raise ValueError("a rule needs at least one of trunk, did, header, area_code")
        if self.value is not None and self.header is None:
            raise ValueError("'value' only makes sense with 'header'")
        if self.region is None and not (self.header and self.value is None):
            raise ValueError("a rule needs 'region' (unless it reads the region from a header)")
        return self

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        parts = [
            f"{k}={v}"
            for k, v in (("trunk", self.trunk), ("did", self.did), ("header", self.header),
                         ("value", self.value), ("area_code", self.area_code))
            if v is not None
        ]
        return "rule:" + ",".join(parts)


class Ingress(Model):
    rules: list[IngressRule] = []
    default_service: Name = "darurat"

    def headers_read(self, trunk: str | None) -> list[str]:
        """The SIP headers the rules look at for a call from `trunk`: those of header rules
        without a trunk condition or with this trunk, once each (header names are
        case-insensitive), readable names only (`acd117 check-config` warns about others)."""
        names: dict[str, str] = {}
        for rule in self.rules:
            if rule.header is None or (rule.trunk is not None and rule.trunk != trunk):
                continue
            if readable_header(rule.header):
                names.setdefault(rule.header.lower(), rule.header)
        return list(names.values())


class TierEscalation(Model):
    after_s: Annotated[float, Field(gt=0, le=3600)] = 20
    # Escalate at once when the centre has no agent logged in, instead of waiting out after_s.
    immediate_when_unstaffed: bool = True
    # widen: the call stays offered to this tier's agents as well; move: it leaves them.
    mode: Literal["widen", "move"] = "widen"


class NationalTier(Model):
    """The last tier never gives up: it keeps the call, announces, and raises an alert."""

    alert_after_s: Annotated[float, Field(gt=0)] = 120


class Escalation(Model):
    kabkota: TierEscalation = TierEscalation()
    province: TierEscalation = TierEscalation()
    national: NationalTier = NationalTier()

    def for_tier(self, tier: Tier) -> TierEscalation | None:
        if tier is Tier.KABKOTA:
            return self.kabkota
        if tier is Tier.PROVINCE:
            return self.province
        return None


LineType = Literal["mobile", "fixed"]


class PriorityClass(Model):
    """A caller class; the list order is the priority, first served first. All given
    conditions must hold (a class with none matches every caller)."""

    name: Name
    numbers: list[E164] = []
    prefixes: list[Annotated[str, StringConstraints(pattern=r"^\+\d{1,14}$")]] = []
    line_type: LineType | None = None
    repeat: bool = False  # called already within `repeat_window_min`


class NuisanceNumber(Model):
    number: E164
    until: date  # listed until the end of this day (the centre's local day is close enough)
    reason: str


class Callers(Model):
    classes: list[PriorityClass] = []
    default_class: Name = "other"
    repeat_window_min: Annotated[float, Field(gt=0, le=1440)] = 10
    # An emergency number never drops a call: a nuisance caller is served last ("deprioritise")
    # or hears a warning prompt first and is then served last ("prompt"). Always logged.
    nuisance_action: Literal["deprioritise", "prompt"] = "prompt"
    nuisance: list[NuisanceNumber] = []

    @field_validator("classes")
    @classmethod
    def _unique_names(cls, classes: list[PriorityClass]) -> list[PriorityClass]:
        names = [c.name for c in classes]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"class names must be unique: {', '.join(dupes)}")
        return classes


class Prompt(Model):
    text: str = Field(min_length=1)  # what the studio recording says (and the placeholder speaks)
    file: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_/-]+$")]  # sound name, no extension
    # Heard in full before any phone rings (a recording notice the law asks for): a welcome
    # marked so is never cut short by an agent's answer.
    heard_in_full: bool = False


class Announcements(Model):
    language: Literal["id-ID"] = "id-ID"
    welcome: Name
    periodic: Name  # while queued, every `periodic_every_s`
    periodic_every_s: Annotated[float, Field(gt=5, le=600)] = 30
    # Said with the periodic prompt: expected wait in minutes (rounded up), when known.
    expected_wait: Name | None = None
    escalated: dict[Tier, Name] = {}  # said when a call moves up to that tier
    after_hours: Name | None = None  # said when the caller's own centre is closed
    nuisance: Name | None = None  # warning for a listed nuisance number
    prompts: dict[Name, Prompt]

    @model_validator(mode="after")
    def _references(self) -> Self:
        used = [self.welcome, self.periodic, self.expected_wait, self.after_hours, self.nuisance,
                *self.escalated.values()]
        missing = sorted({p for p in used if p is not None and p not in self.prompts})
        if missing:
            raise ValueError(f"prompts used but not defined under 'prompts': {', '.join(missing)}")
        return self


class Recording(Model):
    enabled: bool = True
    # Which answered calls are recorded: every one, or only some services.
    services: Literal["all"] | list[Name] = "all"
    format: Literal["wav", "mp3"] = "wav"
    retention_days: Annotated[int, Field(ge=365)] = 366  # tender: at least one year

    def records(self, service: str) -> bool:
        return self.enabled and (self.services == "all" or service in self.services)


# A PJSIP endpoint name (an outbound trunk), as in `PJSIP/<number>@<trunk>`.
EndpointName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


class TransferTarget(Model):
    """Where a call taker may hand a call on: another centre's queue (the call waits there
    with its arrival time, priority and history) or an outside number (the fire brigade,
    an ambulance, the police, an agency's line) dialled through a trunk."""

    # What the agent dials on the phone's Transfer button, or picks in the console.
    code: Annotated[str, StringConstraints(pattern=r"^\d{2,15}$")]
    label: str = Field(min_length=1, max_length=80)
    centre: Name | None = None
    number: Annotated[str, StringConstraints(pattern=r"^\+?\d{2,20}$")] | None = None
    trunk: EndpointName | None = None  # for a number; default: the section's `trunk`

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.centre is None) == (self.number is None):
            raise ValueError("a destination is either a 'centre' or a 'number'")
        if self.trunk is not None and self.number is None:
            raise ValueError("'trunk' only makes sense with 'number'")
        return self


class Transfers(Model):
    trunk: EndpointName | None = None  # the outbound trunk numbers are dialled through
    # How long an outside number may ring before the call comes back to the queue.
    ring_timeout_s: Annotated[float, Field(gt=0, le=120)] = 30
    destinations: list[TransferTarget] = []

    @model_validator(mode="after")
    def _complete(self) -> Self:
        codes = [d.code for d in self.destinations]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"destination codes must be unique: {', '.join(dupes)}")
        trunkless = [d.code for d in self.destinations
                     if d.number is not None and d.trunk is None and self.trunk is None]
        if trunkless:
            raise ValueError(f"numbers need a 'trunk' (here or on the destination): "
                             f"{', '.join(trunkless)}")
        return self

    def target(self, code: str) -> TransferTarget | None:
        return next((d for d in self.destinations if d.code == code), None)

    def dial_string(self, target: TransferTarget) -> str:
        """The Asterisk dial string of a number destination."""
        return f"PJSIP/{target.number}@{target.trunk or self.trunk}"


SECTIONS = ("centres", "agents", "ingress", "escalation", "callers", "announcements", "recording",
            "transfers", "wrapup", "pauses")


class CallFlows(Model):
    centres: list[Centre] = Field(min_length=1)
    agents: list[Agent] = []
    ingress: Ingress = Ingress()
    escalation: Escalation = Escalation()
    callers: Callers = Callers()
    announcements: Announcements
    recording: Recording = Recording()
    transfers: Transfers = Transfers()
    wrapup: WrapUp = WrapUp()
    # None listed: any reason code is taken (the phone's digits as they are).
    pauses: list[PauseReason] = []

    @field_validator("pauses")
    @classmethod
    def _pauses(cls, pauses: list[PauseReason]) -> list[PauseReason]:
        return check_pauses(pauses)

    def pause_code(self, typed: str) -> str | None:
        """The reason a code or phone digit names; with no reasons listed, any code."""
        if not self.pauses:
            return typed
        return next((p.code for p in self.pauses if typed in (p.code, p.digit)), None)

