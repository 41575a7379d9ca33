"""The spool's line format: every record type comes back exactly as it was written."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acd.store.codec import DecodeError, decode, encode
from acd.vocabulary.records import CallEnded, TierHop
from acd.vocabulary.tiers import Tier
from tests.store.streams import stream


def test_every_record_of_a_realistic_stream_round_trips() -> None:
    records = list(stream(300))
    assert {type(r).__name__ for r in records} >= {
        "CallStarted",
        "TierHop",
        "OfferEnded",
        "AgentStateChanged",
        "CallEnded",
        "WrapUpEnded",
        "Classification",
        "RecordingStored",
    }
    for record in records:
        line = encode(record)
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        assert decode(line) == record


@given(at=st.floats(min_value=0, max_value=4e9, allow_nan=False), tier=st.sampled_from(list(Tier)))
def test_times_round_trip_bit_for_bit_so_natural_keys_match_on_replay(
    at: float, tier: Tier
) -> None:
    hop = decode(encode(TierHop("c1", tier, "bpbd-32.73", "arrival", at)))
    assert isinstance(hop, TierHop)
    assert hop.at == at and hop.tier is tier


def test_non_ascii_text_survives() -> None:
    ended = CallEnded(
        "c-ü",
        "abandoned",
        1.5,
        None,
        2.5,
        Tier.PROVINCE,
        "Pusdalops Jawa Barat",
        None,
        1.0,
        0.0,
        0.0,
        1,
    )
    assert decode(encode(ended)) == ended


@pytest.mark.parametrize(
    "line", [b"", b"{", b'{"t":"Nope"}', b'{"t":"TierHop","call_id":"x"}', b"[1]"]
)
def test_garbage_is_a_decode_error(line: bytes) -> None:
    with pytest.raises(DecodeError):
        decode(line)


def test_encoding_something_else_is_refused() -> None:
    with pytest.raises(TypeError):
        encode(object())  # type: ignore[arg-type]
