"""Ray backend throughput vs workers on the real generations (issue 16, item 5), local backend alongside.

For each worker count N a fresh process starts a local Ray cluster with N CPUs (``ray.init(num_cpus=N)``, its
start not timed), then runs the same programs through ``get_backend("ray")`` (one CPU per shard; shards of
``--shard-size`` distinct programs, by default the backend's automatic ones) and through
``get_backend("local", workers=N)``; each arm gets a fresh store, so nothing is cached. Verdicts of the two arms
are compared.

Example: python benchmarks/bench_ray.py --workers 1 2 --sample 10 --tasks synthesize
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_execution import generation_cases, generation_files, limits_for, load_docs, load_generations, sample_problems
from lm_eval_octopack.executors.registry import get_backend
from lm_eval_octopack.executors.types import Program


def programs_for(languages: list[str], tasks: list[str], sample: int | None, seed: int, timeout: float) -> list:
    programs = []
    for language in languages:
        docs = load_docs(language, None)
        chosen = sample_problems(len(docs), sample, seed)
        for task, path in generation_files(language).items():
            if task not in tasks:
                continue
            generations = load_generations(path, len(docs))
            cases = generation_cases(language, [docs[i] for i in chosen], [generations[i] for i in chosen])
            programs += [Program(language, c.source, limits_for(language, timeout)) for c in cases]
    return programs


def child(args) -> dict:
    import ray

    programs = programs_for(args.languages, args.tasks, args.sample, args.seed, args.run_timeout)
    ray.init(num_cpus=args.child, include_dashboard=False, log_to_driver=False, configure_logging=False)
    scratch = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    row: dict = {"workers": args.child, "programs": len(programs), "unique": len({p.digest for p in programs})}
    verdicts = {}
    for arm, options in (("ray", {"shard_size": args.shard_size}), ("local", {"workers": args.child})):
        backend = get_backend(arm, store=scratch / f"{arm}.sqlite", progress=False, **options)
        start = time.monotonic()
        verdicts[arm] = [v.passed for v in backend.run(programs)]
        row[f"{arm}_s"] = round(time.monotonic() - start, 2)
        row[f"{arm}_programs_per_s"] = round(len(programs) / row[f"{arm}_s"], 2)
    row["identical_verdicts"] = verdicts["ray"] == verdicts["local"]
    ray.shutdown()
    return row


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--languages", nargs="+", default=["python", "java"])
    parser.add_argument("--tasks", nargs="+", default=["synthesize"])
    parser.add_argument("--sample", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shard-size", type=int, default=None, help="programs per shard (default: automatic)")
    parser.add_argument("--run-timeout", type=float, default=10.0)
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args)), flush=True)
        return []
    rows = []
    passthrough = sys.argv[1:] if argv is None else argv
    for workers in args.workers:
        done = subprocess.run(
            [sys.executable, __file__, *passthrough, "--child", str(workers)],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    return rows


if __name__ == "__main__":
    main()
