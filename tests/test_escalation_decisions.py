"""escalation/ on its own: the ladder, the decisions and the SLA clock, with no core."""

from __future__ import annotations

from acd.vocabulary.tiers import Tier
from config.models import Centre
from config.regions import load_regions
from escalation.escalator import Escalator
from escalation.sla import next_alert, tier_clock
from tests.support import build_flows, centre

NOW = 1_800_000_000.0  # a Friday, 15:00 in Jakarta


def staffed(_: Centre) -> bool:
    return True


def nobody(_: Centre) -> bool:
    return False


def test_a_regency_call_climbs_regency_province_national():
    esc = Escalator(build_flows(), load_regions())
    ladder = esc.ladder("32.73")
    assert [s.tier for s in ladder] == [Tier.KABKOTA, Tier.PROVINCE, Tier.NATIONAL]
    first = esc.climb(ladder, -1, "32.73", "arrival", NOW, staffed, None)
    assert (first.step, first.to.centre.id, first.reason) == (0, "bdg", "arrival")
    second = esc.climb(ladder, 0, "32.73", "timeout", NOW, staffed, Tier.KABKOTA)
    assert (second.step, second.to.centre.id, second.reason) == (1, "jabar", "timeout")
    assert not second.leave_lower  # widen, the default


def test_an_unstaffed_centre_is_skipped_and_the_last_tier_keeps_the_call():
    esc = Escalator(build_flows(), load_regions())
    climb = esc.climb(esc.ladder("32.73"), -1, "32.73", "arrival", NOW, nobody, None)
    assert (climb.step, climb.to.tier, climb.reason) == (2, Tier.NATIONAL, "unstaffed")


def test_a_region_without_a_centre_starts_higher_as_no_centre():
    esc = Escalator(build_flows(), load_regions())
    ladder = esc.ladder("32.04")  # Kabupaten Bandung: no centre of its own here
    climb = esc.climb(ladder, -1, "32.04", "arrival", NOW, staffed, None)
    assert (climb.to.centre.id, climb.reason) == ("jabar", "no_centre")


def test_a_closed_centre_on_arrival_asks_for_the_after_hours_prompt():
    hours = [{"days": ["sat"], "open": "08:00", "close": "09:00"}]
    flows = build_flows(centres=[centre("bdg", "32.73", hours=hours), centre("jabar", "32"),
                                 centre("bnpb", "ID")])
    esc = Escalator(flows, load_regions())
    climb = esc.climb(esc.ladder("32.73"), -1, "32.73", "arrival", NOW, staffed, None)
    assert (climb.to.centre.id, climb.reason, climb.after_hours) == ("jabar", "closed", True)


def test_move_leaves_the_lower_tier_and_rejoin_stops_below_it():
    flows = build_flows(escalation={"kabkota": {"mode": "move"}})
    esc = Escalator(flows, load_regions())
    ladder = esc.ladder("32.73")
    assert esc.climb(ladder, 0, "32.73", "timeout", NOW, staffed, Tier.KABKOTA).leave_lower
    assert [s.centre.id for s in esc.rejoin(ladder, Tier.NATIONAL).queued_at] == [
        "jabar", "bnpb"]
    widen = Escalator(build_flows(), load_regions())
    assert [s.centre.id for s in widen.rejoin(ladder, Tier.NATIONAL).queued_at] == [
        "bdg", "jabar", "bnpb"]


def test_the_sla_clock_counts_the_first_tier_from_arrival_and_alerts_at_the_last():
    flows = build_flows()
    esc = Escalator(flows, load_regions())
    ladder = esc.ladder("32.73")
    rules = flows.escalation
    first = tier_clock(rules, ladder, 0, first=True, arrived_at=NOW - 5, since=NOW, now=NOW,
                       staffed=True)
    assert (first.deadline, first.alert_at) == (NOW - 5 + rules.kabkota.after_s, None)
    later = tier_clock(rules, ladder, 1, first=False, arrived_at=NOW - 5, since=NOW, now=NOW,
                       staffed=True)
    assert later.deadline == NOW + rules.province.after_s
    last = tier_clock(rules, ladder, 2, first=False, arrived_at=NOW, since=NOW, now=NOW,
                      staffed=False)
    assert last.deadline is None and last.unstaffed_alert
    assert last.alert_at == NOW + rules.national.alert_after_s
    assert next_alert(rules, NOW) == NOW + rules.national.alert_after_s


def test_unstaffed_centres_escalate_at_once_unless_the_rules_say_wait():
    assert Escalator(build_flows(), load_regions()).escalates_unstaffed("bdg")
    patient = build_flows(escalation={"kabkota": {"immediate_when_unstaffed": False}})
    esc = Escalator(patient, load_regions())
    assert not esc.escalates_unstaffed("bdg")
    assert not esc.escalates_unstaffed("bnpb")  # the last tier never gives its calls up
