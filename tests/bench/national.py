"""A national-scale setup: a centre for every region (514 kabupaten/kota, 38 provinces and
the national centre) and 5,000 agents, for benchmarks and capacity planning."""

from __future__ import annotations

from typing import Any

from acd.people.simulate import Traffic
from config.models import CallFlows
from config.regions import NATIONAL_CODE, RegionTable

PROMPTS = ("welcome", "periodic", "wait")


def national_flows(regions: RegionTable, agents: int = 5000) -> CallFlows:
    regencies = regions.regencies()
    provinces = regions.provinces()
    national_agents = 128
    per_province = 20
    per_regency, extra = divmod(agents - national_agents - per_province * len(provinces),
                                len(regencies))
    centres: list[dict[str, Any]] = []
    roster: list[dict[str, Any]] = []

    def add(code: str, n: int) -> None:
        cid = f"c{code.lower()}"
        centres.append({"id": cid, "name": f"Pusdalops {code}", "region": code,
                        "queues": [{"service": "darurat", "skills": {"darurat": 1},
                                    "ring_timeout_s": 15, "wrap_up_s": 20}]})
        roster.extend({"id": str(10000 + len(roster)), "name": "agent", "centre": cid,
                       "skills": {"darurat": 1 + len(roster) % 10}} for _ in range(n))

    for i, r in enumerate(regencies):
        add(r.code, per_regency + (1 if i < extra else 0))
    for p in provinces:
        add(p.code, per_province)
    add(NATIONAL_CODE, national_agents)
    return CallFlows.model_validate({
        "centres": centres, "agents": roster,
        "ingress": {"rules": [{"trunk": "trunk-telkomsel", "header": "X-Cell-Region"}]},
        "announcements": {"welcome": "welcome", "periodic": "periodic", "expected_wait": "wait",
                          "prompts": {p: {"file": f"acd117/{p}", "text": p} for p in PROMPTS}},
    })


def national_day(regions: RegionTable) -> Traffic:
    """A day peaking at 10,000 calls per hour (an earthquake afternoon), from every regency."""
    profile = [0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.35, 0.5, 0.6, 0.65, 0.7, 0.75,
               0.8, 0.9, 1.0, 1.0, 0.95, 0.85, 0.75, 0.6, 0.45, 0.35, 0.25, 0.2]
    weights = {r.code: 1.0 for r in regions.regencies()}
    weights.update({p.code: 2.0 for p in regions.provinces()})
    return Traffic(peak_calls_per_hour=10_000, hourly_profile=profile, region_weights=weights,
                   handle_time_mean_s=150, handle_time_sd_s=80, patience_mean_s=120)
