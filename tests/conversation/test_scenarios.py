"""Every scenario in `scenarios/*.yaml` through the real driver, rules brain and LocalCalendar."""

from __future__ import annotations

import pytest

from tests.conversation.scenario_runner import check, load_scenarios, run_scenario

SCENARIOS = load_scenarios()


def test_there_are_enough_scenarios() -> None:
    assert len(SCENARIOS) >= 40


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
async def test_scenario(scenario, sqlite_url) -> None:
    run = await run_scenario(scenario, sqlite_url)
    check(run, scenario)
