"""Every benchmark in one command, and one page of results: bench/RESULTS.md.

Run: python bench/run_all.py [--quick] [--only NAME ...] [--out PATH]

Each module in bench/ with a `run(quick: bool = False) -> dict[str, object]` is imported and run in turn
(`--quick` passes quick=True); one without `run`, or one named below that is not on this branch, is listed
as not run, with the reason, and so is one that raised. The page says on what machine (CPU model, cores,
memory, Python), when, and with exactly what command, then every figure each bench returned.

Figures are flat `name: value` pairs; a nested dict is flattened with dots. A bench that measures something
before and after a change returns the pair as `<name>_before` and `<name>_after` (or `before.<name>` and
`after.<name>`); the page puts each pair side by side with the ratio after / before.

Do not commit a RESULTS.md from a machine busy with other work: the figures would say more about the load.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shlex
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

BENCH_DIR = Path(__file__).resolve().parent
# Benches the issue asks for, in the order the page shows them (others found in the folder follow, by name).
EXPECTED = ("voice", "relay", "prewarm", "speech", "calcom_path", "webhook_ingest", "soak")
SKIP = frozenset({"run_all"})


@dataclass
class Outcome:
    name: str
    figures: dict[str, object] = field(default_factory=dict)
    not_run: str | None = None  # why, when it did not run (or failed)
    seconds: float = 0.0


def bench_names(folder: Path) -> list[str]:
    found = sorted(p.stem for p in folder.glob("*.py") if p.stem not in SKIP and not p.stem.startswith("_"))
    return [*EXPECTED, *(name for name in found if name not in EXPECTED)]


def load(folder: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", folder / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs, as an import would: a dataclass in the module looks its module up by name.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def flatten(figures: dict[str, object], prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in figures.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def run_one(folder: Path, name: str, quick: bool) -> Outcome:
    if not (folder / f"{name}.py").exists():
        return Outcome(name, not_run=f"no bench/{name}.py on this branch")
    started = time.perf_counter()
    try:
        module = load(folder, name)
        run = getattr(module, "run", None)
        if not callable(run):
            return Outcome(name, not_run="it has no run(quick) function")
        figures = run(quick=quick)
        if not isinstance(figures, dict):
            return Outcome(name, not_run=f"run() returned {type(figures).__name__}, not a dict of figures")
    except Exception as exc:  # one broken bench must not cost the others their figures
        traceback.print_exc()
        return Outcome(name, not_run=f"failed: {type(exc).__name__}: {exc}", seconds=time.perf_counter() - started)
    return Outcome(name, flatten(figures), seconds=time.perf_counter() - started)


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    info = {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": platform.platform(),
    }
    if hasattr(os, "getloadavg"):
        info["load average at start (1/5/15 min)"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return info


def show(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != value:  # NaN
            return "n/a"
        size = abs(value)
        if value.is_integer() and size < 1e15:
            return f"{value:,.0f}"
        if size >= 100:
            return f"{value:,.0f}"
        if size >= 1:
            return f"{value:.2f}"
        return f"{value:.3g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def is_table(value: object) -> bool:
    """A list of rows (dicts of figures), such as a curve with one row per level: shown as a table of its own."""
    return isinstance(value, list) and bool(value) and all(isinstance(row, dict) for row in value)


def table(rows: list[dict[str, object]]) -> list[str]:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    out = ["| " + " | ".join(columns) + " |", "|" + "---:|" * len(columns)]
    out += ["| " + " | ".join(show(row.get(column, "")) for column in columns) + " |" for row in rows]
    return out


def pairs(figures: dict[str, object]) -> list[tuple[str, object, object]]:
    """(name, before, after) for each before/after pair among the figures."""
    found = []
    for key, before in figures.items():
        if key.endswith("_before"):
            name = key.removesuffix("_before")
            after = f"{name}_after"
        elif key.startswith("before."):
            name = key.removeprefix("before.")
            after = f"after.{name}"
        else:
            continue
        if after in figures:
            found.append((name, before, figures[after]))
    return found


def ratio(before: object, after: object) -> str:
    if isinstance(before, int | float) and isinstance(after, int | float) and not isinstance(before, bool):
        return f"{after / before:.2f}x" if before else "n/a"
    return ""


def render(outcomes: list[Outcome], command: str, started: datetime, quick: bool) -> str:
    lines = ["# Benchmark results", ""]
    lines += [f"- date: {started:%Y-%m-%d %H:%M} UTC", f"- command: `{command}`"]
    lines += [f"- mode: {'quick' if quick else 'full'}", ""]
    lines += ["## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {show(v)} |" for k, v in machine().items()]
    lines.append("")
    ran = [o for o in outcomes if o.not_run is None]
    skipped = [o for o in outcomes if o.not_run is not None]
    for outcome in ran:
        lines += [f"## {outcome.name}", "", f"`bench/{outcome.name}.py`, {outcome.seconds:.0f} s.", ""]
        side_by_side = pairs(outcome.figures)
        if side_by_side:
            lines += ["| figure | before | after | after / before |", "|---|---:|---:|---:|"]
            lines += [f"| {n} | {show(b)} | {show(a)} | {ratio(b, a)} |" for n, b, a in side_by_side]
            lines.append("")
        tables = {name: value for name, value in outcome.figures.items() if is_table(value)}
        lines += ["| figure | value |", "|---|---:|"]
        lines += [f"| {name} | {show(value)} |" for name, value in outcome.figures.items() if name not in tables]
        lines.append("")
        for name, rows in tables.items():
            lines += [f"### {name}", "", *table(rows), ""]
    lines += ["## Not run", ""]
    lines += [f"- {o.name}: {o.not_run}" for o in skipped] or ["- (every bench ran)"]
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="each bench's quick mode")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="these benches only (file names without .py)")
    parser.add_argument("--out", type=Path, default=None, help="where to write the page (default bench/RESULTS.md)")
    parser.add_argument("--bench-dir", type=Path, default=BENCH_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    folder: Path = args.bench_dir.resolve()
    out: Path = args.out or folder / "RESULTS.md"
    names = args.only or bench_names(folder)
    command = shlex.join(["python", "bench/run_all.py", *(sys.argv[1:] if argv is None else argv)])
    started = datetime.now(UTC)
    sys.path.insert(0, str(folder))  # benches may import their neighbours
    outcomes = []
    for name in names:
        print(f"== {name}", flush=True)
        outcome = run_one(folder, name, args.quick)
        print(f"   {outcome.not_run or f'{len(outcome.figures)} figures in {outcome.seconds:.0f} s'}", flush=True)
        outcomes.append(outcome)
    out.write_text(render(outcomes, command, started, args.quick))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
