"""Prints the off-script scenario suite's pass rate, per category, at the end of a run that ran it (from the
test reports, so it also counts scenarios run by other worker processes)."""

from __future__ import annotations

import re

import pytest

_SCENARIO = re.compile(r"test_scenarios\.py::test_scenario\[([^/\]]+)/")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    results: dict[str, list[bool]] = {}
    for outcome in ("passed", "failed", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            match = _SCENARIO.search(getattr(report, "nodeid", ""))
            if match and getattr(report, "when", "call") == "call":
                results.setdefault(match.group(1), []).append(outcome == "passed")
    if not results:
        return
    total = sum(len(r) for r in results.values())
    passed = sum(sum(r) for r in results.values())
    terminalreporter.section("conversation scenarios (simulate --jsonl, rules brain)")
    for category, outcomes in sorted(results.items()):
        terminalreporter.write_line(f"{category:>18}: {sum(outcomes):3d}/{len(outcomes):3d} passed")
    terminalreporter.write_line(f"{'all':>18}: {passed:3d}/{total:3d} passed ({100 * passed / total:.1f} %)")
