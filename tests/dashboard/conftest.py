"""One seeded dashboard server per test module (starting one and seeding it costs about a second)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import PINNED_NOW
from tests.dashboard.dashboard_app import DashboardApp, dashboard_app


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardApp]:
    with dashboard_app(tmp_path_factory.mktemp("dashboard"), PINNED_NOW) as app:
        yield app
