"""Per-program cost of JavaScript runtimes on the reference programs (issue 16, item 2), candidates interleaved.

Candidates (each runs the same programs; ms per program = wall of the whole round / programs, median of rounds):
  fresh         ``node test.js`` per program, clean environment (NODE_PATH only): what the reference and our
                executor start per program (ours adds its sandbox's fork + exec, ~2 ms).
  fresh-flags   the same with startup flags that keep node's behaviour (``--max-semi-space-size=1``: smaller
                young generation to set up; ``--v8-pool-size=0``: no V8 worker threads).
  snapshot      ``node --snapshot-blob`` with a user-land startup snapshot whose main loads the program.
  worker        one warm node; a fresh ``worker_threads.Worker`` per program (stdout/stderr captured).
  vm            one warm node; ``vm.runInNewContext`` per program: no isolation at all, a floor only.

Pass/fail is compared with ``fresh`` (the reference rule: pass iff no output) for every candidate.

Example: python benchmarks/bench_js_runtime.py --limit 40 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench_execution import load_docs, reference_cases
from lm_eval_octopack.executors.languages.js import node_modules
from lm_eval_octopack.executors.store import default_cache_dir

HERE = Path(__file__).resolve().parent
PROBE = HERE / "js_runtime_probe.js"
SNAPSHOT_MAIN = (
    "const v8 = require('v8');\n"
    "v8.startupSnapshot.setDeserializeMainFunction(() => {\n"
    "  require('module')._load(require('path').resolve(process.argv[1]), null, true);\n"
    "});\n"
)
FLAGS = ["--max-semi-space-size=1", "--v8-pool-size=0"]


def fresh_round(paths: list[Path], env: dict, flags: list[str]) -> list[bool]:
    passed = []
    for path in paths:
        done = subprocess.run(["node", *flags, path.name], cwd=path.parent, env=env, capture_output=True, timeout=20)
        passed.append(not done.stdout and not done.stderr)
    return passed


def warm_round(paths: list[Path], env: dict, mode: str) -> list[bool]:
    listing = "".join(f"{p}\n" for p in paths)
    done = subprocess.run(
        ["node", str(PROBE), mode], input=listing, env=env, capture_output=True, text=True, timeout=60 + 20 * len(paths)
    )
    return [json.loads(line)["out"] == 0 for line in done.stdout.splitlines()]


def write_programs(root: Path, limit: int, env: dict) -> tuple[list[Path], int]:
    """The programs that finish (a fresh node, 10 s), and how many did not (hangs are measured elsewhere)."""
    paths, hung = [], 0
    for index, case in enumerate(reference_cases("js", load_docs("js", limit))):
        folder = root / f"p{index}"
        folder.mkdir()
        (folder / "test.js").write_text(case.source)
        try:
            subprocess.run(["node", "test.js"], cwd=folder, env=env, capture_output=True, timeout=10)
        except subprocess.TimeoutExpired:
            hung += 1
            continue
        paths.append(folder / "test.js")
    return paths, hung


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=40, help="first N problems (canonical + buggy each)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    env = {"PATH": os.environ["PATH"], "NODE_PATH": str(node_modules(default_cache_dir()))}
    with tempfile.TemporaryDirectory(prefix="bench-js-") as tmp:
        root = Path(tmp)
        paths, hung = write_programs(root, args.limit, env)
        (root / "snap.js").write_text(SNAPSHOT_MAIN)
        subprocess.run(
            ["node", "--snapshot-blob", "snap.blob", "--build-snapshot", "snap.js"],
            cwd=root,
            capture_output=True,
            check=True,
        )
        candidates = {
            "fresh": lambda: fresh_round(paths, env, []),
            "fresh-flags": lambda: fresh_round(paths, env, FLAGS),
            "snapshot": lambda: fresh_round(paths, env, ["--snapshot-blob", str(root / "snap.blob")]),
            "worker": lambda: warm_round(paths, env, "worker"),
            "vm": lambda: warm_round(paths, env, "vm"),
        }
        times: dict[str, list[float]] = {name: [] for name in candidates}
        verdicts: dict[str, list[bool]] = {}
        for _ in range(args.rounds):
            for name, run in candidates.items():
                start = time.monotonic()
                verdicts[name] = run()
                times[name].append((time.monotonic() - start) / len(paths) * 1000)
    figures = {
        "programs": len(paths),
        "hung_left_out": hung,
        "rounds": args.rounds,
        "load_before": os.getloadavg()[0],
        "candidates": {},
    }
    for name in candidates:
        same = sum(a == b for a, b in zip(verdicts[name], verdicts["fresh"], strict=False))
        figures["candidates"][name] = {
            "ms_per_program": round(statistics.median(times[name]), 1),
            "rounds_ms": [round(t, 1) for t in times[name]],
            "verdicts_equal_to_fresh": f"{same}/{len(paths)}",
            "passed": sum(verdicts[name]),
        }
        print(name, figures["candidates"][name], flush=True)
    return figures


if __name__ == "__main__":
    main()
