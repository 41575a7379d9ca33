"""Behaviour of the core's escalation, one scenario per test: deadlines counted from arrival,
the climb to the province and national, widen and move, regions without a centre, closed
centres and the last agent leaving."""

from __future__ import annotations

from acd.domain.model import CallState
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from acd.vocabulary.alerts import Alert
from acd.vocabulary.tiers import Tier
from tests.support import Harness, agent, build_flows, centre, ended, of


def test_unanswered_call_escalates_to_the_province_at_the_deadline_counted_from_arrival():
    h = Harness()
    h.login("1001", "2001")
    h.call("c1")  # rings 1001, who lets it ring
    arrived = h.start
    out = h.wait(19.9)
    assert not of(out, rec.TierHop)
    out = h.wait(0.1)
    hop = of(out, rec.TierHop)[0]
    assert (hop.tier, hop.centre_id, hop.reason, hop.at) == (
        Tier.PROVINCE, "jabar", "timeout", arrived + 20)
    assert [p.prompt for p in of(out, cmd.PlayPrompt)] == ["to-province"]


def test_a_call_climbs_to_national_and_is_kept_there_with_alerts():
    flows = build_flows(agents=[agent("9001", "bnpb")])
    h = Harness(flows)
    h.login("9001")
    h.send(ev.AgentPaused("9001", "briefing"))
    h.call("c1")
    tiers = [hop.tier for hop in of(h.log, rec.TierHop)]
    # kabkota and province have nobody logged in: skipped at once
    assert tiers == [Tier.NATIONAL]
    assert of(h.log, rec.TierHop)[0].reason == "unstaffed"
    out = h.wait(3600)
    assert not ended(out), "the national tier never gives up on a call"
    alerts = [n for n in of(out, Alert) if n.kind == "national_long_wait"]
    assert len(alerts) == 30  # every 120 s
    assert h.acd.calls["c1"].state is CallState.QUEUED


def test_widen_keeps_the_call_offered_to_regency_agents_after_escalation():
    h = Harness()
    h.login("1001")
    h.call("c1")
    h.send(ev.RingFailed(h.ring_for("c1").offer_id, "no_answer"), after=15)  # 1001 paused
    h.wait(5)  # escalated to province (nobody there is logged in: on to national)
    assert h.acd.calls["c1"].queues[0] == ("bdg", "darurat")
    out = h.send(ev.AgentUnpaused("1001"))
    assert not of(out, cmd.RingAgent), "1001 let this call ring out: not again"
    h.login("1002")
    assert h.ring_for("c1").agent_id == "1002", "a fresh regency agent still gets the call"
    h.answer("c1")
    cdr = ended(h.send(ev.AgentHungUp("c1"), after=30))[0]
    # one escalation: the province had nobody logged in and was skipped
    assert (cdr.tier, cdr.answered_tier, cdr.escalations) == (Tier.NATIONAL, Tier.KABKOTA, 1)


def test_move_takes_the_call_away_from_the_lower_tier():
    flows = build_flows(escalation={"kabkota": {"after_s": 20, "mode": "move"}})
    h = Harness(flows)
    h.login("1001", "2001")
    h.send(ev.AgentPaused("2001", "break"))
    h.send(ev.AgentPaused("1001", "break"))
    h.call("c1")
    h.wait(20)
    assert h.acd.calls["c1"].queues == [("jabar", "darurat")]
    out = h.send(ev.AgentUnpaused("1001"))
    assert not of(out, cmd.RingAgent)
    out = h.send(ev.AgentUnpaused("2001"))
    assert of(out, cmd.RingAgent)[0].agent_id == "2001"


def test_a_region_without_a_centre_starts_at_its_province():
    h = Harness()
    h.login("2001")
    h.call("c1", region="32.04")  # Kabupaten Bandung has no centre here
    hop = of(h.log, rec.TierHop)[0]
    assert (hop.tier, hop.reason) == (Tier.PROVINCE, "no_centre")
    assert h.ring_for("c1").agent_id == "2001"


def test_a_closed_centre_is_skipped_at_once_with_the_after_hours_prompt():
    closed = {"hours": [{"days": ["mon"], "open": "00:00", "close": "00:01"}]}
    flows = build_flows(centres=[centre("bdg", "32.73", **closed), centre("jabar", "32"),
                                 centre("bnpb", "ID")])
    h = Harness(flows)  # 1_800_000_000 is a Friday
    h.login("1001", "2001")
    out = h.call("c1")
    assert [p.prompt for p in of(out, cmd.PlayPrompt)] == ["welcome", "after-hours"]
    assert [(x.tier, x.reason) for x in of(out, rec.TierHop)] == [(Tier.PROVINCE, "closed")]
    assert h.ring_for("c1").agent_id == "2001"


def test_the_last_agent_logging_out_escalates_waiting_calls_at_once():
    h = Harness()
    h.login("1001", "2001")
    h.send(ev.AgentPaused("1001", "break"))
    h.send(ev.AgentPaused("2001", "break"))
    h.call("c1")
    assert of(h.log, rec.TierHop)[-1].tier is Tier.KABKOTA
    out = h.send(ev.AgentLoggedOut("1001"), after=3)
    assert [(x.tier, x.reason) for x in of(out, rec.TierHop)] == [(Tier.PROVINCE, "unstaffed")]
