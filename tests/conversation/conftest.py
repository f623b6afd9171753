"""Prints the off-script scenario suite's pass rate, per category, at the end of a run that ran it."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.conversation.test_scenarios import RESULTS

    if not RESULTS:
        return
    total = sum(len(r) for r in RESULTS.values())
    passed = sum(sum(r) for r in RESULTS.values())
    terminalreporter.section("conversation scenarios (simulate --jsonl, rules brain)")
    for category, results in sorted(RESULTS.items()):
        terminalreporter.write_line(f"{category:>18}: {sum(results):3d}/{len(results):3d} passed")
    terminalreporter.write_line(f"{'all':>18}: {passed:3d}/{total:3d} passed ({100 * passed / total:.1f} %)")
