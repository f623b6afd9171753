"""bench/run_all.py on a folder of two tiny benches: one with `run` (figures, a before/after pair, a nested
dict), one without. Run as the command is run, in its own process; the page it writes is read back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FAST = """
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Level:  # with string annotations, a dataclass looks its module up by name (bench/voice.py has some)
    calls: int


def run(quick: bool = False) -> dict[str, object]:
    return {
        "mode": "quick" if quick else "full",
        "p50_ms_before": 1100.0,
        "p50_ms_after": 550.0,
        "calls": Level(8).calls,
        "cache": {"hits": 3, "ok": True},
        "curve": [{"calls": 1, "p95_ms": 580.0}, {"calls": 8, "p95_ms": 1703.0}],
    }
"""
NO_RUN = """
def main() -> None:
    print("I only run by hand")
"""


def test_run_all_writes_the_machine_the_command_every_figure_and_what_did_not_run(tmp_path: Path) -> None:
    (tmp_path / "fast.py").write_text(FAST)
    (tmp_path / "by_hand.py").write_text(NO_RUN)
    out = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run_all.py"),
            "--quick",
            "--bench-dir",
            str(tmp_path),
            "--out",
            str(out),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    page = out.read_text()

    sections = [line for line in page.splitlines() if line.startswith("## ")]
    assert sections == ["## Machine", "## fast", "## Not run"]
    assert f"- command: `python bench/run_all.py --quick --bench-dir {tmp_path} --out {out}`" in page
    assert "- mode: quick" in page
    for label in ("| cpu |", "| cores |", "| memory |", "| python |"):
        assert label in page

    assert "| mode | quick |" in page  # --quick reached run(quick=True)
    assert "| p50_ms | 1,100 | 550 | 0.50x |" in page  # the pair side by side, with after / before
    assert "| calls | 8 |" in page
    assert "| cache.hits | 3 |" in page and "| cache.ok | yes |" in page  # nested figures, flattened

    # A list of rows is a table of its own, one row per level.
    curve = page.split("### curve", 1)[1].strip().splitlines()[:4]
    assert curve == ["| calls | p95_ms |", "|---:|---:|", "| 1 | 580 |", "| 8 | 1,703 |"]

    not_run = page.split("## Not run", 1)[1]
    assert "- by_hand: it has no run(quick) function" in not_run
    for absent in ("voice", "relay", "prewarm", "calcom_path", "webhook_ingest", "soak"):
        assert f"- {absent}: no bench/{absent}.py on this branch" in not_run
