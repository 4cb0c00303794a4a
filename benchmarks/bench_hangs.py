"""Wall time of a set with hangs (issue 16, item 4): the timeout re-run as soon as it is seen vs after the pass.

Programs: ``--quick`` distinct quick Python programs with ``--hangs`` hanging ones spread evenly among them, all with
a ``--timeout`` s run timeout, through ``LocalBackend(workers=--workers)`` with no store (nothing cached), real
sandbox. Each round runs every arm once, in turn, each in a fresh process; the arms are trees of this repository
(``--tree``, default: this one), so an older commit's tree (``git worktree add /tmp/old <commit>``) runs the same
programs with its own front and backend. Prints one JSON line per run and a summary (median wall per arm).

Example: python benchmarks/bench_hangs.py --tree new=. --tree old=/tmp/old --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, os, sys, time
from lm_eval_octopack.executors import Limits, Program
from lm_eval_octopack.executors import front
from lm_eval_octopack.executors.backends.local import LocalBackend

args = json.loads(sys.argv[1])
limits = Limits(run_timeout=args["timeout"])
quick = [Program("python", f"assert sum(range({i} * 1000)) >= 0", limits) for i in range(args["quick"])]
programs = list(quick)
step = max(1, len(quick) // max(1, args["hangs"]))
for h in range(args["hangs"]):  # spread evenly: one at the start of each stretch
    programs.insert(h * (step + 1), Program("python", f"while {h} >= 0:\\n    pass", limits))
backend = LocalBackend(workers=args["workers"], store=False, progress=False, cache_dir=args["cache_dir"],
                       batch_size=args["batch_size"])
backend.prepare(["python"])
started = time.monotonic()
verdicts = backend.run(programs)
wall = time.monotonic() - started
statuses = {}
for verdict in verdicts:
    statuses[verdict.status] = statuses.get(verdict.status, 0) + 1
summary = backend.last_summary
print(json.dumps({"front": os.path.realpath(front.__file__), "wall_s": round(wall, 2), "statuses": statuses,
                  "timeouts": summary.timeouts, "reruns": summary.reruns,
                  "timeout_seconds": round(summary.timeout_seconds, 1)}))
"""


def tree_path(tree: Path, scratch: Path) -> str:
    """A directory that imports ``lm_eval_octopack`` (with its executors) from ``tree``, ahead of any install."""
    root = scratch / f"tree-{abs(hash(str(tree)))}"
    package = root / "lm_eval_octopack"
    if not package.exists():
        package.mkdir(parents=True)
        for entry in (tree / "lm_eval_octopack").iterdir():
            (package / entry.name).symlink_to(entry)
        for name in ("executors", "task_yaml"):
            (package / name).symlink_to(tree / name)
    return str(root)


def run_arm(tree: Path, options: dict, scratch: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": tree_path(tree.resolve(), scratch)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(options)], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", action="append", default=[], help="NAME=PATH of a repository tree (repeatable)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", type=int, default=40)
    parser.add_argument("--hangs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=3.0)
    parser.add_argument("--batch-size", type=int, default=None, help="LocalBackend batch_size (default: Python's)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    trees = dict(item.split("=", 1) for item in args.tree) or {"this": str(Path(__file__).resolve().parents[1])}
    walls: dict[str, list[float]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory(prefix="bench-hangs-") as scratch:
        options = {
            "workers": args.workers,
            "quick": args.quick,
            "hangs": args.hangs,
            "timeout": args.timeout,
            "batch_size": args.batch_size,
            "cache_dir": str(Path(scratch) / "cache"),
        }
        for round_number in range(args.rounds):
            for name, tree in trees.items():
                result = run_arm(Path(tree), options, Path(scratch))
                walls[name].append(result["wall_s"])
                print(json.dumps({"round": round_number, "arm": name, **result}), flush=True)
    summary = {name: {"median_wall_s": statistics.median(values), "walls": values} for name, values in walls.items()}
    print(json.dumps({"options": {k: v for k, v in options.items() if k != "cache_dir"}, "arms": summary}))
    return summary


if __name__ == "__main__":
    main()
