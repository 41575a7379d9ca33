"""Erlang C, checked against published values.

Sources:
- Call Centre Helper, "Erlang C Formula – Made Simple With an Easy Worked Example"
  (callcentrehelper.com): 100 calls in 30 minutes, AHT 180 s (10 Erlangs), target 80 % in
  20 s. With 11 agents the probability of waiting is 68.21 % and the service level 39 %;
  14 agents are needed (13 give 79.6 %, 14 give 88.8 %).
- Westbay Engineers, "The Erlang-C Formula" worked example: 360 calls per half hour, 4
  minute calls (48 Erlangs), 55 agents, 15 s target: probability of waiting 23.9 %, ASA
  8.2 s, service level 84.6 %.
- Erlang C tables (e.g. Wolfram's ErlangC[3, 2] = 4/9): 2 Erlangs on 3 servers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from acd.domain.forecast import (
    IntervalHistory,
    agents_needed,
    asa_s,
    erlang_c,
    forecast,
    service_level,
    traffic_erlangs,
)


def test_two_erlangs_on_three_servers_wait_with_probability_four_ninths() -> None:
    assert erlang_c(2.0, 3) == pytest.approx(4 / 9, abs=1e-12)


def test_call_centre_helper_worked_example() -> None:
    a = traffic_erlangs(100, 180, 1800)
    assert a == 10
    assert erlang_c(a, 11) == pytest.approx(0.6821, abs=5e-5)
    assert service_level(a, 11, 180, 20) == pytest.approx(0.39, abs=5e-3)
    assert service_level(a, 13, 180, 20) == pytest.approx(0.796, abs=5e-4)
    assert service_level(a, 14, 180, 20) == pytest.approx(0.888, abs=5e-4)
    assert agents_needed(100, 180, 1800) == 14


def test_westbay_worked_example() -> None:
    a = traffic_erlangs(360, 240, 1800)
    assert a == 48
    assert erlang_c(a, 55) == pytest.approx(0.239, abs=5e-4)
    assert asa_s(a, 55, 240) == pytest.approx(8.2, abs=0.05)
    assert service_level(a, 55, 240, 15) == pytest.approx(0.846, abs=5e-4)


def test_too_few_agents_never_meet_the_target() -> None:
    assert erlang_c(10, 10) == 1.0 and service_level(10, 9, 180, 20) == 0.0
    assert asa_s(10, 10, 180) == float("inf")
    assert agents_needed(0, 180, 900) == 0


def test_an_occupancy_cap_adds_agents() -> None:
    assert agents_needed(100, 180, 1800, max_occupancy=0.6) == 17  # ceil(10 / 0.6)


def test_the_forecast_averages_each_slot_over_the_days_of_history() -> None:
    day = datetime(2027, 1, 4, 8, 0)
    history = []
    for d in range(4):
        start = day + timedelta(days=d)
        history.append(IntervalHistory(start, offered=100, answered=100, handle_s=18000))
        history.append(IntervalHistory(start + timedelta(minutes=30), offered=50 if d < 2
                                       else 0, answered=50 if d < 2 else 0,
                                       handle_s=9000 if d < 2 else 0))
    needs = {n.slot: n for n in forecast(history, 1800)}
    assert needs["08:00"].calls == 100 and needs["08:00"].aht_s == 180
    assert needs["08:00"].agents == 14 and needs["08:00"].service_level >= 0.8
    assert needs["08:30"].calls == 25  # 50 on two of four days
    assert needs["08:30"].agents == agents_needed(25, 180, 1800)
