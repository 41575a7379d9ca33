"""After a restart acd117 re-adopts the calls still in its Stasis app: waiting calls go back
to the tier they had reached with their deadlines, connected calls stay with their agent."""

from __future__ import annotations

from acd.domain.model import AgentState, CallState
from acd.vocabulary import commands as cmd
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from acd.vocabulary.alerts import Alert
from acd.vocabulary.tiers import Tier
from tests.support import Harness, ended, from_region, of


def adopt(h: Harness, call_id: str = "c1", **kw: object) -> list:
    event = ev.CallAdopted(call_id, "+6281234567890", from_region("32.73"), **kw)  # type: ignore[arg-type]
    return h.send(event)


def test_a_waiting_call_returns_to_its_tier_with_its_original_deadline():
    h = Harness()
    arrived, since = h.now - 50, h.now - 12
    out = adopt(h, arrived_at=arrived, tier=Tier.PROVINCE, tier_since=since)
    assert not of(out, cmd.Answer) and not of(out, cmd.PlayPrompt), "no second welcome"
    started = of(out, rec.CallStarted)[0]
    assert started.arrived_at == arrived
    call = h.acd.calls["c1"]
    assert call.state is CallState.QUEUED
    assert call.queues == [("bdg", "darurat"), ("jabar", "darurat")]  # widen kept kabkota
    assert call.deadline == since + 20
    out = h.wait(8)
    assert [x.tier for x in of(out, rec.TierHop)] == [Tier.NATIONAL]


def test_an_adopted_call_past_its_deadline_escalates_at_once():
    h = Harness()
    out = adopt(h, arrived_at=h.now - 90, tier=Tier.KABKOTA, tier_since=h.now - 90)
    assert [x.tier for x in of(out, rec.TierHop)] == [Tier.NATIONAL]


def test_an_adopted_waiting_call_is_offered_to_a_free_agent():
    h = Harness()
    h.login("2001")
    adopt(h, arrived_at=h.now - 30, tier=Tier.PROVINCE, tier_since=h.now - 10)
    assert h.ring_for("c1").agent_id == "2001"


def test_a_call_adopted_during_its_welcome_is_queued_now():
    h = Harness()
    h.login("1001")
    out = adopt(h, arrived_at=h.now - 3)
    assert of(out, cmd.RingAgent)[0].agent_id == "1001"
    assert of(out, rec.TierHop)[0].reason == "arrival"


def test_a_connected_call_stays_with_its_agent_who_is_logged_in_at_that_phone():
    h = Harness()
    answered = h.now - 40
    out = adopt(h, arrived_at=h.now - 55, agent_id="1001", device="PJSIP/1001",
                answered_at=answered)
    assert not of(out, cmd.RingAgent) and not of(out, cmd.Bridge)
    agent = h.acd.agents["1001"]
    assert (agent.state, agent.device, agent.call_id) == (AgentState.ON_CALL, "PJSIP/1001", "c1")
    h.call("c2")
    assert not of(h.log, cmd.RingAgent), "the busy agent is not offered another call"
    cdr = ended(h.send(ev.CallerHungUp("c1"), after=20))[0]
    assert (cdr.outcome, cdr.answered_at, cdr.wait_s, cdr.agent_id) == (
        "answered", answered, 15, "1001")
    assert agent.state is AgentState.AFTER_CALL_WORK


def test_a_call_still_known_is_not_adopted_twice():
    h = Harness()
    h.call("c1", welcome_done=False)
    assert adopt(h, arrived_at=h.now, tier=Tier.NATIONAL) == []


def test_a_connected_call_whose_agent_is_busy_in_our_books_is_kept_and_flagged():
    h = Harness()
    h.login("1001")
    h.call("c0")
    h.answer("c0")
    out = adopt(h, arrived_at=h.now - 30, agent_id="1001", device="PJSIP/1001",
                answered_at=h.now - 20)
    assert of(out, Alert)[0].kind == "adoption_conflict"
    assert h.acd.calls["c1"].state is CallState.CONNECTED
    assert ended(h.send(ev.AgentHungUp("c1")))[0].outcome == "answered"
    assert h.acd.agents["1001"].call_id == "c0", "the agent's own call is untouched"


def test_a_call_handed_to_a_number_stays_with_it_and_ends_with_its_agent_in_the_cdr():
    h = Harness()
    h.login("1001")
    out = adopt(h, arrived_at=h.now - 90, tier=Tier.KABKOTA, tier_since=h.now - 90,
                agent_id="1001", answered_at=h.now - 80, outside_leg="leg-7")
    assert not of(out, cmd.RingAgent) and not of(out, cmd.PlayPrompt)
    assert not of(out, rec.TierHop), "not queued again: it is with the fire brigade"
    assert h.acd.calls["c1"].state is CallState.OUTSIDE
    assert h.acd.agents["1001"].state is AgentState.AVAILABLE, "the agent is free"
    (end,) = ended(h.send(ev.OutsideHungUp("c1"), after=30))
    assert (end.outcome, end.agent_id, end.answered_at) == ("answered", "1001", h.now - 110)
    assert cmd.HangUp("c1", "caller") in h.log


def test_the_caller_leaving_a_call_handed_to_a_number_hangs_that_number_up():
    h = Harness()
    adopt(h, arrived_at=h.now - 90, answered_at=h.now - 80, outside_leg="leg-7")
    (end,) = ended(h.send(ev.CallerHungUp("c1"), after=5))
    assert end.outcome == "answered" and cmd.HangUp("c1", "outside") in h.log
