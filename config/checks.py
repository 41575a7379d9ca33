"""Checks across sections that a single model cannot make: region codes exist, ids are
unique, agents belong to a known centre, a national centre exists. Each problem comes with
the path of the setting at fault so the loader can point at its line.

`warnings` are settings that are valid but cannot work as written (a header rule whose
header acd117 can never read): reported, not refused."""

from __future__ import annotations

from collections import Counter
from fnmatch import fnmatchcase

from config.models import CallFlows, readable_header
from config.regions import NATIONAL_CODE, RegionTable

Located = tuple[tuple[str | int, ...], str]


def cross_check(flows: CallFlows, regions: RegionTable) -> list[Located]:
    problems: list[Located] = []
    region_owner: dict[str, str] = {}
    centre_ids = Counter(c.id for c in flows.centres)
    for i, c in enumerate(flows.centres):
        if centre_ids[c.id] > 1:
            problems.append((("centres", i, "id"), f"centre id '{c.id}' is used more than once"))
        if c.region not in regions:
            problems.append((("centres", i, "region"),
                             f"unknown region code '{c.region}' (Kemendagri codes look like "
                             "'32' for a province or '32.73' for a regency/city)"))
        elif c.region in region_owner:
            problems.append((("centres", i, "region"),
                             f"region {c.region} already has centre '{region_owner[c.region]}'"))
        region_owner.setdefault(c.region, c.id)
    if NATIONAL_CODE not in region_owner:
        problems.append((("centres",), f"a national centre (region: {NATIONAL_CODE}) is required: "
                         "it is the last tier and never gives up on a call"))
    agent_ids = Counter(a.id for a in flows.agents)
    for i, a in enumerate(flows.agents):
        if agent_ids[a.id] > 1:
            problems.append((("agents", i, "id"), f"agent id '{a.id}' is used more than once"))
        if a.centre not in centre_ids:
            problems.append((("agents", i, "centre"), f"unknown centre '{a.centre}'"))
    for i, rule in enumerate(flows.ingress.rules):
        if rule.region is not None and rule.region not in regions:
            problems.append((("ingress", "rules", i, "region"),
                             f"unknown region code '{rule.region}'"))
    for i, d in enumerate(flows.transfers.destinations):
        if d.centre is not None and d.centre not in centre_ids:
            problems.append((("transfers", "destinations", i, "centre"),
                             f"unknown centre '{d.centre}'"))
    problems += _phone_problems(flows)
    return problems


def _phone_problems(flows: CallFlows) -> list[Located]:
    """A phone belongs to one centre and is an agent's or a supervisor's, never a trunk
    (acd.domain.phones): patterns listed twice, or matching a trunk the ingress rules name."""
    problems: list[Located] = []
    trunks = sorted({f"PJSIP/{r.trunk}" for r in flows.ingress.rules if r.trunk is not None})
    seen: dict[str, str] = {}
    for i, c in enumerate(flows.centres):
        for key in ("phones", "supervisor_phones"):
            for j, pattern in enumerate(getattr(c, key)):
                where = ("centres", i, key, j)
                hit = next((t for t in trunks if fnmatchcase(t, pattern)), None)
                if hit is not None:
                    problems.append((where, f"'{pattern}' matches the trunk {hit}, which is "
                                            "never a phone"))
                owner = f"{c.id} {key}"
                if pattern in seen:
                    problems.append((where, f"'{pattern}' is listed already ({seen[pattern]})"))
                seen.setdefault(pattern, owner)
    return problems


def warnings(flows: CallFlows) -> list[Located]:
    problems: list[Located] = []
    for i, rule in enumerate(flows.ingress.rules):
        # acd117 reads a header the dialplan does not pass with PJSIP_HEADER(read,<name>)
        # (ari/arrival.py); a name it cannot read as written never reaches the rule.
        if rule.header is not None and not readable_header(rule.header):
            problems.append((("ingress", "rules", i, "header"),
                             f"'{rule.header}' is not a SIP header name Asterisk can read, so "
                             "this rule never matches: use letters, digits and - . ! % _ + ` ' ~ "
                             "(no spaces, ':' or ','; a final '*' would read any header "
                             "starting with the name)"))
    return problems
