"""Records to JSON lines and back, for the spool.

One record per line: an object with the record's fields and a type tag `"t"`. Floats are
written with `repr` precision, so a time read back is bit-for-bit the time written and a
replayed record has exactly the natural key it had the first time.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

from acd.store.recordings import RecordingStored
from acd.vocabulary.audit import AuditEntry
from acd.vocabulary.records import (
    AgentStateChanged,
    CallEnded,
    CallStarted,
    CallTransferred,
    Classification,
    OfferEnded,
    TierHop,
    WrapUpEnded,
)
from acd.vocabulary.tiers import Tier

StoreRecord = (
    CallStarted
    | TierHop
    | OfferEnded
    | AgentStateChanged
    | CallEnded
    | CallTransferred
    | WrapUpEnded
    | Classification
    | RecordingStored
    | AuditEntry
)

RECORD_TYPES: tuple[type[Any], ...] = (
    CallStarted,
    TierHop,
    OfferEnded,
    AgentStateChanged,
    CallEnded,
    CallTransferred,
    WrapUpEnded,
    Classification,
    RecordingStored,
    AuditEntry,
)
_BY_TAG: dict[str, type[Any]] = {cls.__name__: cls for cls in RECORD_TYPES}
_FIELDS: dict[type[Any], tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in RECORD_TYPES
}
# Fields whose JSON form (a string) needs converting back to a richer type.
_CONVERT: dict[str, Callable[[Any], Any]] = {"tier": Tier, "answered_tier": Tier}

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


class DecodeError(ValueError):
    pass


def encode(record: StoreRecord) -> bytes:
    cls = type(record)
    fields = _FIELDS.get(cls)
    if fields is None:
        raise TypeError(f"not a store record: {cls.__name__}")
    obj: dict[str, Any] = {"t": cls.__name__}
    for name in fields:
        obj[name] = getattr(record, name)
    return _dumps(obj).encode() + b"\n"


def decode(line: bytes) -> StoreRecord:
    try:
        obj = json.loads(line)
        cls = _BY_TAG[obj.pop("t")]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DecodeError(f"not a spooled record: {line[:200]!r}") from exc
    kwargs: dict[str, Any] = {}
    # Known fields only: a spool written by a newer acd117 may carry extra ones; a missing
    # field with a default (added later to a record) takes its default.
    for name in _FIELDS[cls]:
        if name in obj:
            value = obj[name]
            convert = _CONVERT.get(name)
            kwargs[name] = convert(value) if convert is not None and value is not None else value
    try:
        record: StoreRecord = cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise DecodeError(f"{cls.__name__}: {exc}") from exc
    return record
