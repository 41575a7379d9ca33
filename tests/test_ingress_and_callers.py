"""Working out where a call comes from and who is calling."""

from __future__ import annotations

from datetime import date

import pytest

from acd.domain.callers import CallerPolicy, parse_caller
from acd.domain.ingress import IngressResolver
from acd.vocabulary.events import Ingress
from config.models import Callers
from config.models import Ingress as IngressConfig
from config.regions import load_regions

RULES = IngressConfig.model_validate({"rules": [
    {"name": "cell", "trunk": "trunk-telkomsel", "header": "X-Cell-Region"},
    {"name": "bdg-did", "did": "+62227100117", "region": "32.73"},
    {"name": "info", "did": "+62227100118", "region": "32", "service": "informasi"},
    {"name": "palu-trunk", "trunk": "trunk-indosat-palu", "region": "72.71"},
    {"name": "carrier-x", "header": "X-Carrier-Zone", "value": "SULTENG", "region": "72"},
    {"name": "cianjur-area", "area_code": "263", "region": "32.03"},
]})


@pytest.fixture(scope="module")
def resolver() -> IngressResolver:
    return IngressResolver(RULES, load_regions())


MOBILE = parse_caller("+6281234567890")


@pytest.mark.parametrize(("ingress", "caller", "region", "source"), [
    (Ingress(trunk="trunk-telkomsel", headers=(("x-cell-region", "72.71"),)), MOBILE, "72.71",
     "cell"),
    (Ingress(did="0227100117"), MOBILE, "32.73", "bdg-did"),
    (Ingress(did="+62 22 7100117"), MOBILE, "32.73", "bdg-did"),
    (Ingress(trunk="trunk-indosat-palu"), MOBILE, "72.71", "palu-trunk"),
    (Ingress(headers=(("X-Carrier-Zone", "SULTENG"),)), MOBILE, "72", "carrier-x"),
    (Ingress(), parse_caller("0263123456"), "32.03", "cianjur-area"),
    (Ingress(), parse_caller("+62227654321"), "32.73", "area_code:22"),
    (Ingress(), MOBILE, "ID", "default"),
    (Ingress(), parse_caller("anonymous"), "ID", "default"),
])
def test_the_region_comes_from_the_first_matching_rule_then_the_area_code_then_national(
        resolver, ingress, caller, region, source):
    r = resolver.resolve(ingress, caller)
    assert (r.region, r.source) == (region, source)


def test_a_header_carrying_an_unknown_region_code_falls_through_to_the_next_rules(resolver):
    r = resolver.resolve(Ingress(trunk="trunk-telkomsel", did="0227100117",
                                 headers=(("X-Cell-Region", "99.99"),)), MOBILE)
    assert (r.region, r.source) == ("32.73", "bdg-did")


def test_a_rule_can_route_to_another_service(resolver):
    assert resolver.resolve(Ingress(did="0227100118"), MOBILE).service == "informasi"
    assert resolver.resolve(Ingress(did="0227100117"), MOBILE).service == "darurat"


@pytest.mark.parametrize(("raw", "e164", "line", "area"), [
    ("+6281234567890", "+6281234567890", "mobile", None),
    ("081234567890", "+6281234567890", "mobile", None),
    ("022-7654321", "+62227654321", "fixed", "22"),
    ("+62361234567", "+62361234567", "fixed", "361"),
    ("anonymous", None, "unknown", None),
    ("", None, "unknown", None),
    ("12", None, "unknown", None),
])
def test_caller_numbers_are_parsed_to_e164_with_line_type_and_area_code(raw, e164, line, area):
    info = parse_caller(raw)
    assert (info.e164, info.line_type, info.area_code) == (e164, line, area)


def test_nuisance_listing_lasts_to_the_end_of_its_day_in_jakarta():
    listing = {"number": "+6285700000117", "until": date(2026, 12, 31), "reason": "pranks"}
    policy = CallerPolicy(Callers(nuisance=[listing]))
    caller = parse_caller("+6285700000117")
    last_minute = 1798736340.0  # 2026-12-31 23:59 WIB
    assert policy.classify(caller, last_minute, None).nuisance
    assert not policy.classify(caller, last_minute + 120, None).nuisance


def test_the_first_matching_class_wins_and_unmatched_callers_get_the_default():
    policy = CallerPolicy(Callers(classes=[
        {"name": "listed", "numbers": ["+6281311170117"]},
        {"name": "repeat", "repeat": True},
        {"name": "mobile", "line_type": "mobile"}], default_class="other"))
    now = 1_800_000_000.0
    assert policy.classify(parse_caller("+6281311170117"), now, None).caller_class == "listed"
    assert policy.classify(MOBILE, now, now - 60).caller_class == "repeat"
    assert policy.classify(MOBILE, now, now - 3600).caller_class == "mobile"
    fixed = policy.classify(parse_caller("0227654321"), now, None)
    assert (fixed.caller_class, fixed.priority) == ("other", 3)
