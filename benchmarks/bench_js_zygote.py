"""JavaScript with and without the zygote, in one run: same programs, verdicts compared, time per program.

    OCTOPACK_SHARED_DATA=../shared/data python benchmarks/bench_js_zygote.py [--rounds 2] [--workers 2]

The programs are the canonical and buggy solution of every HumanEvalPack JS problem. Arms alternate round by
round (zygote, fresh node, zygote, ...). Reported per arm: wall time, timeouts and their seconds, and the median
and 90th percentile of the verdict seconds of the programs that finish; then every program whose status differs
between the arms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from lm_eval_octopack.executors import Limits, Program, get_backend

from lm_eval_octopack.humanevalpack.assemble import assemble_programs

ARMS = {"zygote": "1", "fresh node": "0"}


def reference_programs(data: Path, run_timeout: float) -> list[Program]:
    docs = [json.loads(line) for line in (data / "humanevalpack" / "js.jsonl").read_text().splitlines() if line]
    limits = Limits(run_timeout=run_timeout)
    programs = []
    for doc in docs:
        solutions = [doc["prompt"] + doc["canonical_solution"], doc["prompt"] + doc["buggy_solution"]]
        programs += [Program("js", source, limits) for source in assemble_programs(doc, "js", solutions)]
    return programs


def run_arm(arm: str, programs: list[Program], workers: int) -> tuple[list, float]:
    os.environ["OCTOPACK_JS_ZYGOTE"] = ARMS[arm]
    backend = get_backend("local", workers=workers, store=False, progress=False, retry_timeouts=False)
    start = time.monotonic()
    verdicts = backend.run(programs)
    return verdicts, time.monotonic() - start


def summary(arm: str, verdicts: list, wall: float) -> str:
    finished = sorted(v.seconds for v in verdicts if v.status != "timeout")
    hangs = [v.seconds for v in verdicts if v.status == "timeout"]
    p90 = finished[int(len(finished) * 0.9)] if finished else 0.0
    return (
        f"{arm:>10}: wall {wall:6.1f} s, {len(hangs)} timeouts ({sum(hangs):.1f} s), programs that finish: "
        f"median {statistics.median(finished) * 1000:.1f} ms, p90 {p90 * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--run-timeout", type=float, default=10.0)
    args = parser.parse_args()
    data = Path(os.environ.get("OCTOPACK_SHARED_DATA", "../shared/data"))
    programs = reference_programs(data, args.run_timeout)
    first: dict[str, list] = {}
    for round_number in range(args.rounds):
        for arm in ARMS:
            verdicts, wall = run_arm(arm, programs, args.workers)
            first.setdefault(arm, verdicts)
            print(f"round {round_number + 1} {summary(arm, verdicts, wall)}", flush=True)
    zygote, fresh = first["zygote"], first["fresh node"]
    differ = [i for i, (a, b) in enumerate(zip(zygote, fresh, strict=True)) if a.status != b.status]
    print(f"programs: {len(programs)}; status differs between the arms: {len(differ)}")
    for i in differ:
        print(f"  program {i}: zygote {zygote[i].status} ({zygote[i].detail[:120]!r}), fresh {fresh[i].status}")


if __name__ == "__main__":
    main()
