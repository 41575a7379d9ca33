"""The core's invariants hold when call flows are reloaded at random moments: every rule of
tests/test_core_invariants.py, plus reloads that change timers, strategies and skills, add
and remove agents and centres (refused, with nothing changed, when they are in use)."""

from __future__ import annotations

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import rule

from acd.domain.core import ReloadRefused
from tests.support import agent, build_flows, centre, queue
from tests.test_core_invariants import CoreMachine


def reloaded(after_s: float, strategy: str, level_1001: int, drop_1003: bool,
             add_1004: bool, drop_palu: bool):  # type: ignore[no-untyped-def]
    centres = [centre("bdg", "32.73", queues=[queue(strategy=strategy)]),
               centre("jabar", "32", queues=[queue(strategy="fewest_calls")]),
               centre("bnpb", "ID")]
    agents = [agent("1001", "bdg", level_1001), agent("1002", "bdg", 7),
              agent("2001", "jabar"), agent("2002", "jabar"),
              agent("9001", "bnpb"), agent("9002", "bnpb", 9)]
    if not drop_1003:
        agents.append(agent("1003", "bdg", 7))
    if add_1004:
        agents.append(agent("1004", "bdg", 9))
    if not drop_palu:
        centres.append(centre("palu", "72.71", queues=[queue(strategy="round_robin",
                                                             wrap_up_s=0)]))
        agents.append(agent("7001", "palu"))
    return build_flows(centres=centres, agents=agents,
                       escalation={"kabkota": {"after_s": after_s},
                                   "province": {"after_s": after_s + 5}})


class ReloadMachine(CoreMachine):
    @rule(after_s=st.sampled_from([10.0, 20.0, 40.0]),
          strategy=st.sampled_from(["longest_idle", "fewest_calls", "round_robin"]),
          level_1001=st.sampled_from([3, 8]), drop_1003=st.booleans(),
          add_1004=st.booleans(), drop_palu=st.booleans())
    def call_flows_are_reloaded(self, after_s: float, strategy: str, level_1001: int,
                                drop_1003: bool, add_1004: bool, drop_palu: bool) -> None:
        acd = self.h.acd
        new = reloaded(after_s, strategy, level_1001, drop_1003, add_1004, drop_palu)
        before = acd.flows
        self._snapshot()
        try:
            out = acd.reconfigure(new, self.h.now)
        except ReloadRefused as e:
            event("reload refused")
            assert acd.flows is before and e.problems
            return
        event("reload applied")
        assert acd.flows is new
        self.h.log += out
        self._observe(out)


TestReloads = ReloadMachine.TestCase
TestReloads.settings = settings(max_examples=200, stateful_step_count=80, deadline=None,
                                suppress_health_check=[HealthCheck.too_slow])
