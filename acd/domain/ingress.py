"""Work out the caller's region from what arrived with the call.

Order: the admin's ingress rules (first match wins), then the province or regency of the
caller's fixed-line area code, then the national centre. Mobile numbers carry no location,
so carriers must route them by trunk, DID or header; that is what the rules are for.
"""

from __future__ import annotations

from dataclasses import dataclass

from acd.domain.callers import CallerInfo
from acd.vocabulary.events import Ingress
from config.models import Ingress as IngressConfig
from config.models import IngressRule
from config.regions import NATIONAL_CODE, RegionTable


@dataclass(frozen=True, slots=True)
class Resolution:
    region: str
    source: str  # the rule's label, "area_code:22" or "default"
    service: str


def _digits(number: str | None) -> str:
    """Compare DIDs by their national digits: "+62 22 7100117" == "0227100117"."""
    if not number:
        return ""
    d = "".join(ch for ch in number if ch.isdigit())
    if number.strip().startswith("+62"):
        return d[2:]
    return d[1:] if d.startswith("0") else d


class IngressResolver:
    def __init__(self, config: IngressConfig, regions: RegionTable) -> None:
        self._rules = [(r, _digits(r.did)) for r in config.rules]
        self._regions = regions
        self._default_service = config.default_service

    def resolve(self, ingress: Ingress, caller: CallerInfo) -> Resolution:
        did = _digits(ingress.did)
        for rule, rule_did in self._rules:
            region = self._match(rule, rule_did, ingress, did, caller)
            if region is not None:
                return Resolution(region, rule.label, rule.service or self._default_service)
        if caller.area_code:
            region = self._regions.region_for_area_code(caller.area_code)
            if region is not None:
                return Resolution(region, f"area_code:{caller.area_code}", self._default_service)
        return Resolution(NATIONAL_CODE, "default", self._default_service)

    def _match(self, rule: IngressRule, rule_did: str, ingress: Ingress, did: str,
               caller: CallerInfo) -> str | None:
        if rule.trunk is not None and rule.trunk != ingress.trunk:
            return None
        if rule.did is not None and rule_did != did:
            return None
        if rule.area_code is not None and rule.area_code != caller.area_code:
            return None
        if rule.header is not None:
            value = ingress.header(rule.header)
            if value is None:
                return None
            if rule.value is None:
                # The header carries the region code itself; a code we do not know does
                # not match, so the next rules and the fallbacks still apply.
                value = value.strip()
                return value if value in self._regions else None
            if value.strip() != rule.value:
                return None
        return rule.region
