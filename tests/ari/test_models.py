"""The ARI event models against every event Asterisk 22 sent in the recorded scenarios."""

from __future__ import annotations

import logging

import pytest

from ari.models import (
    EVENT_MODELS,
    ChannelDestroyed,
    ChannelHangupRequest,
    StasisEnd,
    StasisStart,
    parse_ari_time,
    parse_event,
)
from tests.ari.conftest import FIXTURES, load_transcript

SCENARIOS = sorted(p.name.removesuffix(".ari.jsonl") for p in FIXTURES.glob("*.ari.jsonl"))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_recorded_event_of_a_handled_type_parses(scenario: str) -> None:
    events = [r["event"] for r in load_transcript(scenario) if r["dir"] == "event"]
    assert events
    for raw in events:
        parsed = parse_event(raw)
        if raw["type"] in EVENT_MODELS:
            assert parsed is not None, raw
            assert parsed.type == raw["type"]
        else:
            assert parsed is None


def test_stasis_start_carries_the_dialplan_arguments_as_strings() -> None:
    raw = next(
        r["event"]
        for r in load_transcript("02-answered-call")
        if r["dir"] == "event" and r["event"]["type"] == "StasisStart"
    )
    event = parse_event(raw)
    assert isinstance(event, StasisStart)
    assert event.args == ["inbound", "+6281234567890", "trunk-telkomsel"]
    assert event.channel.state == "Up"
    assert event.channel.dialplan.app_data == "acd117,inbound,+6281234567890,trunk-telkomsel"


def test_hangup_request_of_a_sip_bye_has_no_cause() -> None:
    raws = [
        r["event"]
        for r in load_transcript("14-sip-trunk-caller")
        if r["dir"] == "event" and r["event"]["type"] == "ChannelHangupRequest"
    ]
    parsed = [parse_event(r) for r in raws]
    assert any(isinstance(p, ChannelHangupRequest) and p.cause is None for p in parsed)


def test_ring_timeout_is_cause_19_in_channel_destroyed() -> None:
    destroyed = [
        parse_event(r["event"])
        for r in load_transcript("03-agent-no-answer")
        if r["dir"] == "event" and r["event"]["type"] == "ChannelDestroyed"
    ]
    assert [d.cause for d in destroyed if isinstance(d, ChannelDestroyed)] == [19, 17, 19]


def test_malformed_event_is_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="ari.models"):
        assert parse_event({"type": "StasisStart", "args": [], "channel": {"id": 5}}) is None
        assert parse_event(["not", "an", "object"]) is None
    assert "malformed ari StasisStart" in caplog.text


def test_unknown_fields_from_newer_asterisk_are_ignored() -> None:
    event = parse_event(
        {
            "type": "StasisEnd",
            "channel": {"id": "c1", "name": "PJSIP/1001-00000001", "state": "Up",
                        "tenantid": "t", "brand_new_field": {"x": 1}},
            "application": "acd117",
            "timestamp": "2026-11-22T20:49:15.534+0000",
            "another_new_field": True,
        }
    )
    assert event is not None and event.type == "StasisEnd"


@pytest.mark.parametrize(
    ("name", "device"),
    [
        ("PJSIP/1001-00000003", "PJSIP/1001"),
        ("PJSIP/trunk-telkomsel-00000007", "PJSIP/trunk-telkomsel"),
        ("Local/1001@agents-0000000a;2", "Local/1001@agents"),
        ("PJSIP/desk-abc", "PJSIP/desk-abc"),
    ],
)
def test_device_of_a_channel_is_its_endpoint_dial_string(name: str, device: str) -> None:
    event = parse_event(
        {"type": "StasisEnd", "channel": {"id": "x", "name": name, "state": "Up"}}
    )
    assert isinstance(event, StasisEnd)
    assert event.channel.device == device


def test_ari_timestamps_convert_to_epoch_seconds() -> None:
    assert parse_ari_time("2026-11-22T20:49:15.534+0000") == pytest.approx(1795380555.534)
    assert parse_ari_time("not a time") is None
