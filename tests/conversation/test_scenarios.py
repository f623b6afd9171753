"""Every scenario in `scenarios/**/*.yaml` through `simulate --jsonl` over the rules brain and the embedded
calendar. Each asserts its outcome, and that no agent line is said three times or twice in a row. The pass rate
per category is printed at the end of the run (see conftest.py)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from silentpartner.store import migrate
from silentpartner.store.db import Database
from tests.conversation.scenario_runner import check, load_scenarios, run_scenario

SCENARIOS = load_scenarios()


def test_there_are_enough_off_script_scenarios() -> None:
    assert len(SCENARIOS) >= 150
    by_category = Counter(s["category"] for s in SCENARIOS)
    for category in (
        "paraphrase",
        "out_of_turn",
        "misunderstanding",
        "goodbye",
        "times",
        "emergency",
        "questions",
    ):
        assert by_category[category] >= 8, by_category


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each scenario starts from a copy (migrating costs more than the scenario)."""
    import asyncio

    path = tmp_path_factory.mktemp("template") / "template.db"

    async def make() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        await migrate.upgrade(db)
        await db.close()

    asyncio.run(make())
    return path


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[f"{s['category']}/{s['name']}" for s in SCENARIOS])
async def test_scenario(scenario, tmp_path: Path, migrated_template: Path) -> None:
    run = await run_scenario(scenario, tmp_path, migrated_template)
    check(run, scenario)
