"""Execution benchmark: reference-style execution vs our backend, on the same programs, verdicts compared.

Arms
  baseline  the reference harness's way (humanevalpack.md §7.2): a fresh temp dir and fresh compile + run per
            program, plain subprocesses, no dedup, no cache; python3 / node / javac+java / g++ (no PCH) /
            go test / cargo check + cargo test in ONE fixed project dir. Workers = cores, except java and rust
            which get 1 worker as in the reference.
  ours      ``get_backend("local")`` with a throwaway result store (dedup + batching + warm toolchains + sandbox).

Program sets
  generations  (default) every saved model-generations file under ``<shared data>/generations`` for the language
             (``<model>_humaneval<task>-<language>[_flat].json``; one set per task: fixtests, synthesize,
             explainsynthesize), each sample assembled as the reference does, duplicates kept: the baseline pays
             each again (its measured time of that distinct program), ours runs them all through its dedup.
             ``--sample N`` runs a fixed, seeded subset of N problems (``--seed``), the same for both arms.
             Each set also reports ``hang_rate`` and the cost of ``hangs`` and ``slow`` programs (finishing in
             over SLOW_FACTOR x the median baseline time, or running SLOW_RUN_SECONDS of their own) in both
             arms, and ``ours_time``: our core-seconds split by verdict status (the seconds the executor
             attributes to each program) and the unattributed rest.
  reference  canonical + buggy solution of each problem (prompt + solution), assembled as the reference does
             (``lm_eval_octopack.humanevalpack.assemble.assemble_programs``).
  synthetic  n=20 samples per problem drawn with a skewed distribution from {canonical, buggy, two trivially
             varied canonical copies}: the duplication a temperature-0.2 run shows. The baseline cost of this set
             is computed from the baseline's measured time of each distinct program (the baseline has no cache,
             so every duplicate costs the same again); ours really runs all samples.

Ratios are per core: each arm's wall time times the workers it used (the reference runs java and rust with one
worker, ours always uses ``--workers``), so that ``speedup`` compares core-seconds. ``wall_speedup`` is the plain
ratio of wall times. Each arm runs pinned to as many of the machine's CPUs as it is charged for (``--no-pin``
leaves them free): unpinned, a tool that spreads over idle cores (``go test -c`` compiling 128 packages, rustc,
a JVM's JIT and GC threads) would use more cores than its arm is charged. ``*_busy_core_s`` is the CPU time the
whole machine spent while the arm ran (``/proc/stat``), a cross-check that holds on an idle machine only.

Both arms use the same run timeout (``--run-timeout``, default 10 s) so that hanging buggy programs cost the same.
A hang costs its full timeout in any pipeline, so the few hanging buggy programs (3-4 per language) bound the
overall ratio: ``speedup_ceiling`` is the ratio an executor costing nothing but its hangs would reach. Each set
therefore also reports ``speedup_without_timeouts``: both arms on the programs that
timed out in neither (ours re-run on that subset with a fresh store, the baseline's measured per-program times),
and ``speedup_typical``: the same without the slow programs too (a program that runs for seconds of its own
costs them in any executor, and two or three of them weigh as much as the rest of a set).

Examples: python benchmarks/bench_execution.py --languages python java --sample 10 --workers 1
          python benchmarks/bench_execution.py --limit 20 --languages cpp java --sets reference --out bench.json
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from lm_eval_octopack.executors.languages.js import node_modules
from lm_eval_octopack.executors.registry import get_backend, get_language
from lm_eval_octopack.executors.store import default_cache_dir
from lm_eval_octopack.executors.types import LANGUAGES, Limits, Program

from lm_eval_octopack.humanevalpack.assemble import assemble_programs

REPO = Path(__file__).resolve().parents[1]
KNOWN_FLAKY = {"Rust/32", "Go/95"}
REFERENCE_WORKERS = {"java": 1, "rust": 1}
CARGO_START_ALLOWANCE = 2.0
COMPILE_TIMEOUT = {"python": 10, "js": 10, "java": 60, "go": 60, "cpp": 60, "rust": 300}
COMMENT = {"python": "#", "js": "//", "java": "//", "go": "//", "cpp": "//", "rust": "//"}
SLOW_FACTOR = 10  # a finishing program this many times slower than its set's median is "slow"
SLOW_RUN_SECONDS = 1.0  # ... and so is one whose own run in ours takes this long
SAMPLE_WEIGHTS = (0.55, 0.2, 0.15, 0.1)  # canonical, buggy, variant 1, variant 2
RUST_CARGO = '[package]\nname = "rust"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nrand = "0.4"\nregex = "1"\nmd5 = "0.7.0"\n'


@dataclass
class Case:
    task_id: str
    language: str
    source: str


# ------------------------------------------------------------------------------------------------ program sets


def data_dir() -> Path:
    return Path(os.environ.get("OCTOPACK_SHARED_DATA") or REPO.parent / "shared" / "data")


def load_docs(language: str, limit: int | None) -> list[dict]:
    path = data_dir() / "humanevalpack" / f"{language}.jsonl"
    docs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return docs[:limit] if limit else docs


def reference_cases(language: str, docs: list[dict]) -> list[Case]:
    cases = []
    for doc in docs:
        codes = [doc["prompt"] + doc["canonical_solution"], doc["prompt"] + doc["buggy_solution"]]
        cases += [Case(doc["task_id"], language, text) for text in assemble_programs(doc, language, codes)]
    return cases


def synthetic_cases(language: str, docs: list[dict], n: int, seed: int = 0) -> list[Case]:
    rng = random.Random(f"{seed}-{language}")
    cases = []
    for doc in docs:
        canonical = doc["prompt"] + doc["canonical_solution"]
        options = [
            canonical,
            doc["prompt"] + doc["buggy_solution"],
            canonical + "\n",
            canonical + f"\n{COMMENT[language]} done\n",
        ]
        codes = [options[rng.choices(range(4), SAMPLE_WEIGHTS)[0]] for _ in range(n)]
        cases += [Case(doc["task_id"], language, text) for text in assemble_programs(doc, language, codes)]
    return cases


def generation_files(language: str) -> dict[str, Path]:
    """Task name -> saved-generations file for ``language`` (``<model>_humaneval<task>-<language>[_flat].json``)."""
    files = {}
    for path in sorted((data_dir() / "generations").glob(f"*_humaneval*-{language}*.json")):
        task = path.stem.split("_humaneval", 1)[1].removesuffix("_flat")
        if task.rsplit("-", 1)[1] == language:
            files[task.rsplit("-", 1)[0]] = path
    return files


def load_generations(path: Path, problems: int) -> list[list[str]]:
    """One list of final codes per problem; a flat, problem-major file is regrouped (item i is problem i // n)."""
    items = json.loads(path.read_text())
    if len(items) == problems:
        return [list(samples) for samples in items]
    per_problem, remainder = divmod(len(items), problems)
    if remainder or not per_problem:
        raise ValueError(f"{path.name}: {len(items)} items cannot be {problems} problems' samples")
    flat = [item[0] if isinstance(item, list) else item for item in items]
    return [flat[i * per_problem : (i + 1) * per_problem] for i in range(problems)]


def generation_cases(language: str, docs: list[dict], generations: list[list[str]]) -> list[Case]:
    """Every saved sample, duplicates kept (a real run executes them all), assembled as the reference does."""
    cases = []
    for doc, codes in zip(docs, generations, strict=True):
        cases += [Case(doc["task_id"], language, text) for text in assemble_programs(doc, language, codes)]
    return cases


def sample_problems(total: int, size: int | None, seed: int) -> list[int]:
    """A fixed, seeded subset of problem indices (sorted), the same for both arms and every set."""
    if not size or size >= total:
        return list(range(total))
    return sorted(random.Random(seed).sample(range(total), size))


# ------------------------------------------------------------------------------------------------ baseline arm


def _timed(argv: list[str], cwd: Path, timeout: float, env: dict | None = None) -> tuple[int | None, str, str]:
    # Own process group, killed whole on timeout: the reference kills only the direct child, which leaves
    # e.g. cargo's hanging test binary spinning for the rest of the benchmark and skewing both arms.
    with subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    ) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return None, "", ""
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # background children of a finished program
    return proc.returncode, out, err


class ReferenceRunner:
    """Fresh compile + run per program, the way code_eval_octopack does it."""

    def __init__(self, workdir: Path, cache_dir: Path, run_timeout: float):
        self.workdir, self.cache_dir, self.run_timeout = workdir, cache_dir, run_timeout
        self.go_env = self._go_env()

    def run(self, case: Case) -> bool:
        handler: Callable[[Path, str], bool] = getattr(self, f"_{case.language}")
        with tempfile.TemporaryDirectory(dir=self.workdir) as tmp:
            return handler(Path(tmp), case.source)

    def _python(self, tmp: Path, source: str) -> bool:
        (tmp / "test.py").write_text(source)
        return _timed([sys.executable, "test.py"], tmp, self.run_timeout)[0] == 0

    def _js(self, tmp: Path, source: str) -> bool:
        (tmp / "test.js").write_text(source)
        env = {**os.environ, "NODE_PATH": _node_path(self.cache_dir)}
        code, out, err = _timed(["node", "test.js"], tmp, self.run_timeout, env)
        return code is not None and not out and not err

    def _java(self, tmp: Path, source: str) -> bool:
        (tmp / "Main.java").write_text(source)
        if _timed(["javac", "Main.java"], tmp, COMPILE_TIMEOUT["java"])[0] != 0:
            return False
        return _timed(["java", "-cp", ".", "Main"], tmp, self.run_timeout)[0] == 0

    def _cpp(self, tmp: Path, source: str) -> bool:
        (tmp / "test.cpp").write_text(source)
        if _timed(["g++", "-std=c++11", "test.cpp", "-lcrypto", "-lssl"], tmp, COMPILE_TIMEOUT["cpp"])[0] != 0:
            return False
        return _timed(["./a.out"], tmp, self.run_timeout)[0] == 0

    def _go(self, tmp: Path, source: str) -> bool:
        module = next(path for path in (self.cache_dir / "go").glob("module-*") if path.is_dir())  # not its .lock
        for name in ("go.mod", "go.sum"):
            shutil.copyfile(module / name, tmp / name)
        (tmp / "main_test.go").write_text(source)
        timeout = int(self.run_timeout)
        argv = ["go", "test", f"-timeout={timeout}s", "main_test.go"]
        return _timed(argv, tmp, COMPILE_TIMEOUT["go"] + timeout, self.go_env)[0] == 0

    def _rust(self, tmp: Path, source: str) -> bool:
        project = self.rust_project
        (project / "src" / "bin" / "test.rs").write_text(source)
        check = ["cargo", "check", "--offline", "--bin", "test", "--message-format", "json"]
        if _timed(check, project, COMPILE_TIMEOUT["rust"])[0] != 0:
            return False
        test = ["cargo", "test", "--offline", "--bin", "test", "--message-format", "json"]
        # The reference gives `cargo test` (build + run) one 300 s budget. Here the test binary is built under
        # the compile budget first, so that a hang costs the run timeout, as in our arm (one extra no-op cargo
        # start per program, ~0.1 s, in the baseline's disfavour).
        if _timed([*test, "--no-run"], project, COMPILE_TIMEOUT["rust"])[0] != 0:
            return False
        return _timed(test, project, CARGO_START_ALLOWANCE + self.run_timeout)[0] == 0

    def _go_env(self) -> dict:
        base = self.cache_dir / "go"
        env = {**os.environ, "GOFLAGS": "-mod=mod", "GOPROXY": "off", "GOTOOLCHAIN": "local"}
        env.update(GOCACHE=str(base / "gocache"), GOMODCACHE=str(base / "modcache"))
        env["PATH"] = "/usr/local/go/bin:" + env["PATH"]
        return env

    @functools.cached_property
    def rust_project(self) -> Path:
        project = self.workdir / "rust"
        (project / "src" / "bin").mkdir(parents=True, exist_ok=True)
        (project / "Cargo.toml").write_text(RUST_CARGO)
        (project / "src" / "bin" / "test.rs").write_text("fn main(){}\n")
        # Warm the fixed project once (the reference pays this inside its first sample's 300 s timeout).
        subprocess.run(["cargo", "test", "--bin", "test"], cwd=project, capture_output=True, timeout=1800)
        return project


def _node_path(cache_dir: Path) -> str:
    """The reference setup's global js-md5 (``npm install -g``), else the copy ``prepare`` put in our cache."""
    root = subprocess.run(["npm", "root", "-g"], capture_output=True, text=True).stdout.strip()
    return ":".join([root or "/usr/local/lib/node_modules", str(node_modules(cache_dir))])


def run_baseline(
    cases: list[Case], runner: ReferenceRunner, workers: int, pin: bool = True
) -> tuple[list[bool], list[float], float, CoreUse]:
    per_program = [0.0] * len(cases)

    def one(index: int) -> bool:
        start = time.monotonic()
        passed = runner.run(cases[index])
        per_program[index] = time.monotonic() - start
        return passed

    with charged_cores(workers, pin) as use:
        start = time.monotonic()
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(one, range(len(cases))))
        wall = time.monotonic() - start
    return results, per_program, wall, use


# ------------------------------------------------------------------------------------------------ our arm


def run_ours(
    cases: list[Case], store_dir: Path, workers: int, run_timeout: float, pin: bool = True
) -> tuple[list, float, CoreUse]:
    programs = [Program(c.language, c.source, limits_for(c.language, run_timeout)) for c in cases]
    with charged_cores(workers, pin) as use:
        backend = get_backend(
            "local", workers=workers, store=store_dir / f"results-{time.time_ns()}.sqlite", progress=False
        )
        start = time.monotonic()
        verdicts = backend.run(programs)
        wall = time.monotonic() - start
    return verdicts, wall, use


# ------------------------------------------------------------------------------------------------ cores


@dataclass
class CoreUse:
    pinned_to: int | None = None  # CPUs the arm was kept to (None: all of them)
    busy_core_s: float | None = None  # what the whole machine spent meanwhile (an idle machine's cross-check)


@contextlib.contextmanager
def charged_cores(count: int, pin: bool = True):
    """Keep this process's threads, and every process they start, to ``count`` of the CPUs it may use (children
    inherit it), so that the arm's wall time x ``count`` bounds the CPU time it used; restored afterwards."""
    available = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    pinned = pin and 0 < count < len(available)
    threads = _own_threads() if pinned else []
    previous = {tid: os.sched_getaffinity(tid) for tid in threads}
    for tid in threads:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(tid, available[:count])
    use = CoreUse(pinned_to=count if pinned else None)
    busy_before = machine_busy_seconds()
    try:
        yield use
    finally:
        if busy_before is not None and (after := machine_busy_seconds()) is not None:
            use.busy_core_s = round(after - busy_before, 2)
        for tid, cpus in previous.items():
            with contextlib.suppress(OSError):
                os.sched_setaffinity(tid, cpus)


def _own_threads() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc/self/task")]
    except OSError:
        return [0]


def machine_busy_seconds() -> float | None:
    """CPU seconds every core of this machine has spent on anything but idling and waiting, since boot."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def limits_for(language: str, run_timeout: float) -> Limits:
    return Limits(compile_timeout=COMPILE_TIMEOUT[language], run_timeout=run_timeout)


# ------------------------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--languages", nargs="+", default=list(LANGUAGES), choices=list(LANGUAGES))
    parser.add_argument("--limit", type=int, default=None, help="first N problems per language (default all 164)")
    parser.add_argument("--synthetic-limit", type=int, default=None, help="problems in the n=20 set (default --limit)")
    parser.add_argument("--samples", type=int, default=20, help="samples per problem in the synthetic set")
    parser.add_argument("--arms", nargs="+", default=["baseline", "ours"], choices=["baseline", "ours"])
    parser.add_argument(
        "--sets",
        nargs="+",
        default=["generations"],
        choices=["generations", "reference", "synthetic"],
        help="generations: every saved model-generations file for the language (default)",
    )
    parser.add_argument(
        "--sample",
        type=int,
        default=None,
        help="a seeded random subset of N problems (after --limit), the same for both arms and sets",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of --sample")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--run-timeout", type=float, default=10.0)
    parser.add_argument(
        "--no-pin",
        dest="pin",
        action="store_false",
        help="let each arm use every CPU (default: pinned to the cores it is charged for)",
    )
    parser.add_argument("--out", type=Path, default=Path("bench_execution.json"))
    args = parser.parse_args(argv)

    cache_dir = default_cache_dir()
    for language in args.languages:
        get_language(language).prepare(cache_dir)
    scratch = Path(tempfile.mkdtemp(prefix="bench-execution-"))
    runner = ReferenceRunner(scratch, cache_dir, args.run_timeout) if "baseline" in args.arms else None
    figures: dict = {"workers": args.workers, "run_timeout": args.run_timeout, "languages": {}, "totals": {}}
    try:
        for language in args.languages:
            figures["languages"][language] = bench_language(language, args, runner, scratch)
            print(json.dumps({language: figures["languages"][language]["summary"]}), flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    figures["totals"] = totals(figures["languages"], args.workers)
    report(figures)
    args.out.write_text(json.dumps(figures, indent=1))
    return figures


def bench_language(language: str, args, runner: ReferenceRunner | None, scratch: Path) -> dict:
    all_docs = load_docs(language, None)
    chosen = sample_problems(len(all_docs[: args.limit] if args.limit else all_docs), args.sample, args.seed)
    docs = [all_docs[i] for i in chosen]
    sets = {}
    if "generations" in args.sets:
        for task, path in generation_files(language).items():
            generations = load_generations(path, len(all_docs))
            sets[task] = generation_cases(language, docs, [generations[i] for i in chosen])
    if "reference" in args.sets:
        sets["reference"] = reference_cases(language, docs)
    if "synthetic" in args.sets:
        synthetic_docs = docs[: args.synthetic_limit] if args.synthetic_limit else docs
        sets["synthetic"] = synthetic_cases(language, synthetic_docs, args.samples)
    result: dict = {"problems": [doc["task_id"] for doc in docs], "sets": {}, "summary": {}}
    for set_name, cases in sets.items():
        entry = bench_set(language, cases, args, runner, scratch)
        result["sets"][set_name] = entry
        keys = (
            "programs",
            "unique",
            "baseline_s",
            "ours_s",
            "speedup",
            "wall_speedup",
            "speedup_without_timeouts",
            "speedup_typical",
            "hang_rate",
            "mismatches",
        )
        result["summary"][set_name] = {k: entry.get(k) for k in keys}
    return result


def bench_set(language: str, cases: list[Case], args, runner: ReferenceRunner | None, scratch: Path) -> dict:
    unique: dict[str, int] = {}
    for index, case in enumerate(cases):
        unique.setdefault(case.source, index)
    entry: dict = {"programs": len(cases), "unique": len(unique), "baseline_s": None, "ours_s": None}
    baseline_pass, by_source, scale = None, {}, 1.0
    baseline_workers = min(args.workers, REFERENCE_WORKERS.get(language, args.workers))
    if runner is not None:
        distinct = [cases[i] for i in unique.values()]
        passed, per_program, wall, use = run_baseline(distinct, runner, baseline_workers, args.pin)
        entry["baseline_pinned_to"], entry["baseline_busy_core_s_distinct"] = use.pinned_to, use.busy_core_s
        by_source = {c.source: (p, t) for c, p, t in zip(distinct, passed, per_program, strict=True)}
        baseline_pass = [by_source[c.source][0] for c in cases]
        # No cache in the baseline: every sample pays its program's time again (spread over its workers).
        scale = wall / max(1e-9, sum(per_program))
        entry["baseline_s"] = round(sum(by_source[c.source][1] for c in cases) * scale, 2)
        entry["baseline_measured_wall_s_distinct"] = round(wall, 2)
        entry["baseline_workers"] = baseline_workers
        entry["baseline_passed"] = sum(baseline_pass)
    ours_pass = None
    if "ours" in args.arms:
        verdicts, wall, use = run_ours(cases, scratch, args.workers, args.run_timeout, args.pin)
        entry["ours_pinned_to"], entry["ours_busy_core_s"] = use.pinned_to, use.busy_core_s
        ours_pass = [v.passed for v in verdicts]
        entry["ours_s"] = round(wall, 2)
        entry["ours_passed"] = sum(ours_pass)
        entry["ours_statuses"] = dict(Counter(v.status for v in verdicts))
        entry["timed_out_distinct"] = len(
            {c.source for c, v in zip(cases, verdicts, strict=True) if v.status == "timeout"}
        )
        entry["ours_workers"] = args.workers
        entry["ours_time"] = where_time_goes(cases, verdicts, wall * args.workers)
        if runner is not None:
            entry.update(hangs_and_slow(cases, verdicts, by_source, scale * baseline_workers, args.run_timeout))
            entry.update(measured_apart(cases, verdicts, by_source, scale, args, scratch, baseline_workers))
    entry["speedup"], entry["wall_speedup"] = None, None
    if entry["baseline_s"] and entry["ours_s"]:
        entry["baseline_core_s"] = round(entry["baseline_s"] * baseline_workers, 2)
        entry["ours_core_s"] = round(entry["ours_s"] * args.workers, 2)
        entry["speedup"] = round(entry["baseline_core_s"] / entry["ours_core_s"], 2)
        entry["wall_speedup"] = round(entry["baseline_s"] / entry["ours_s"], 2)
        entry.update(timeout_ceiling(entry["baseline_core_s"], entry.get("timed_out_distinct", 0), args.run_timeout))
    if baseline_pass is not None and ours_pass is not None:
        mismatches = sorted(
            {(c.task_id, b, o) for c, b, o in zip(cases, baseline_pass, ours_pass, strict=True) if b != o}
        )
        entry["mismatches"] = [
            {"task_id": t, "baseline": b, "ours": o, "known_flaky": t in KNOWN_FLAKY} for t, b, o in mismatches
        ]
    return entry


def where_time_goes(cases: list[Case], verdicts: list, ours_core_s: float) -> dict:
    """Our core-seconds split by verdict: the seconds the executor attributes to each distinct program (its run,
    plus its share of a batch's compile), and what is left (sandbox and server starts, scheduling, the store)."""
    seen: dict[str, object] = {}
    for case, verdict in zip(cases, verdicts, strict=True):
        seen.setdefault(case.source, verdict)
    by_status: Counter = Counter()
    for verdict in seen.values():
        by_status[verdict.status] += verdict.seconds
    attributed = sum(by_status.values())
    split = {f"{status}_s": round(seconds, 2) for status, seconds in sorted(by_status.items())}
    return {"core_s": round(ours_core_s, 2), **split, "unattributed_s": round(ours_core_s - attributed, 2)}


def hung_and_slow(cases: list[Case], verdicts: list, by_source: dict, run_timeout: float) -> tuple[set, set, float]:
    """(sources that timed out in either arm, slow sources, the set's median baseline time). A program that
    finishes is slow when its baseline time is over SLOW_FACTOR x that median, or when its own run in ours (its
    verdict's seconds: the run plus its share of a batch's build) takes SLOW_RUN_SECONDS or more: time that any
    executor giving the same verdict spends on it."""
    timed_out = {c.source for c, v in zip(cases, verdicts, strict=True) if v.status == "timeout"}
    timed_out |= {source for source, (_, seconds) in by_source.items() if seconds >= run_timeout}
    finishing = sorted(t for source, (_, t) in by_source.items() if source not in timed_out)
    median = finishing[len(finishing) // 2] if finishing else 0.0
    slow = {s for s, (_, t) in by_source.items() if s not in timed_out and t > SLOW_FACTOR * median}
    slow |= {c.source for c, v in zip(cases, verdicts, strict=True) if v.seconds >= SLOW_RUN_SECONDS}
    return timed_out, slow - timed_out, median


def hangs_and_slow(cases: list[Case], verdicts: list, by_source: dict, core_scale: float, run_timeout: float) -> dict:
    """Hangs and slow programs (``hung_and_slow``), counted as a real run has them (every duplicate), with what
    each arm spends on them."""
    timed_out, slow, median = hung_and_slow(cases, verdicts, by_source, run_timeout)
    ours_seconds = {c.source: v.seconds for c, v in zip(cases, verdicts, strict=True)}

    def cost(group: set[str]) -> dict:
        samples = [c for c in cases if c.source in group]
        return {
            "distinct": len(group),
            "samples": len(samples),
            "baseline_core_s": round(sum(by_source[c.source][1] for c in samples) * core_scale, 2),
            "ours_core_s": round(sum(ours_seconds[s] for s in group), 2),  # ours runs each distinct program once
        }

    return {
        "hang_rate": round(sum(c.source in timed_out for c in cases) / max(1, len(cases)), 4),
        "hangs": cost(timed_out),
        "baseline_median_s": round(median, 3),
        "slow": cost(slow),
    }


def timeout_ceiling(baseline_core_s: float, timed_out: int, run_timeout: float) -> dict:
    """A program that hangs costs its full run timeout in any pipeline (a core spinning until the deadline), so
    ``baseline core-s / (hanging programs x timeout)`` bounds the per-core ratio ANY executor can reach here."""
    floor = timed_out * run_timeout
    return {
        "timeout_floor_core_s": round(floor, 2),
        "speedup_ceiling": round(baseline_core_s / floor, 2) if floor else None,
    }


def measured_apart(
    cases: list[Case], verdicts: list, by_source: dict, scale: float, args, scratch: Path, baseline_workers: int
) -> dict:
    """Both arms again without what costs its own time in any executor: ``*_without_timeouts`` on the programs
    that timed out in neither arm, ``*_typical`` on those minus the slow ones too (ours re-run on each subset
    with a fresh store, the baseline's measured per-program times)."""
    hung, slow, _ = hung_and_slow(cases, verdicts, by_source, args.run_timeout)
    figures = {}
    for suffix, left_out in (("without_timeouts", hung), ("typical", hung | slow)):
        kept = [c for c in cases if c.source not in left_out]
        if not kept:
            continue
        _, ours_wall, _ = run_ours(kept, scratch, args.workers, args.run_timeout, args.pin)
        baseline = sum(by_source[c.source][1] for c in kept) * scale
        baseline_core, ours_core = baseline * baseline_workers, ours_wall * args.workers
        figures.update(
            {
                f"left_out_{suffix}": len(cases) - len(kept),
                f"baseline_s_{suffix}": round(baseline, 2),
                f"ours_s_{suffix}": round(ours_wall, 2),
                f"speedup_{suffix}": round(baseline_core / ours_core, 2) if ours_core else None,
                f"baseline_core_s_{suffix}": round(baseline_core, 2),
                f"ours_core_s_{suffix}": round(ours_core, 2),
            }
        )
    return figures


def totals(languages: dict, workers: int) -> dict:
    out = {}
    set_names = dict.fromkeys(name for lang in languages.values() for name in lang["sets"])
    for set_name in set_names:
        rows = [lang["sets"][set_name] for lang in languages.values() if set_name in lang["sets"]]
        if not rows or any(r["baseline_s"] is None or r["ours_s"] is None for r in rows):
            continue
        baseline, ours = sum(r["baseline_s"] for r in rows), sum(r["ours_s"] for r in rows)
        baseline_core, ours_core = sum(r["baseline_core_s"] for r in rows), sum(r["ours_core_s"] for r in rows)
        programs, unique = sum(r["programs"] for r in rows), sum(r["unique"] for r in rows)
        out[set_name] = {
            "programs": programs,
            "unique": unique,
            "baseline_s": round(baseline, 2),
            "ours_s": round(ours, 2),
            "baseline_core_s": round(baseline_core, 2),
            "ours_core_s": round(ours_core, 2),
            "speedup": round(baseline_core / ours_core, 2),
            "wall_speedup": round(baseline / ours, 2),
            "baseline_programs_per_s": round(programs / baseline, 2),
            "ours_programs_per_s": round(programs / ours, 2),
            "ours_unique_per_s_per_core": round(unique / ours / workers, 3),
            "mismatches": sum(len(r.get("mismatches", [])) for r in rows),
        }
        floor = sum(r.get("timeout_floor_core_s", 0.0) for r in rows)
        out[set_name]["timeout_floor_core_s"] = round(floor, 2)
        out[set_name]["speedup_ceiling"] = round(baseline_core / floor, 2) if floor else None
        for suffix in ("without_timeouts", "typical"):
            if all(f"speedup_{suffix}" in r for r in rows):
                base = sum(r[f"baseline_core_s_{suffix}"] for r in rows)
                ours = sum(r[f"ours_core_s_{suffix}"] for r in rows)
                out[set_name][f"speedup_{suffix}"] = round(base / ours, 2)
    return out


def _rate(programs: int, seconds: float | None) -> str:
    return f"{programs / seconds:7.2f}" if seconds else "      -"


def report(figures: dict) -> None:
    print(
        f"\n{'language':8} {'set':10} {'progs':>6} {'uniq':>5} {'base s':>8} {'ours s':>8} {'base/s':>7} {'ours/s':>7} {'x/core':>6} {'no-TO':>6} {'typ':>6} {'ceil':>6}  mismatches"
    )
    for language, data in figures["languages"].items():
        for set_name, row in data["sets"].items():
            base, ours = row["baseline_s"], row["ours_s"]
            mism = ", ".join(
                f"{m['task_id']}{'(flaky)' if m['known_flaky'] else ''}" for m in row.get("mismatches", [])
            )
            print(
                f"{language:8} {set_name:10} {row['programs']:6d} {row['unique']:5d} {base or 0:8.1f} {ours or 0:8.1f} {_rate(row['programs'], base)} {_rate(row['programs'], ours)} {row['speedup'] or 0:6.2f} {row.get('speedup_without_timeouts') or 0:6.2f} {row.get('speedup_typical') or 0:6.2f} {row.get('speedup_ceiling') or 0:6.2f}  {mism}"
            )
    for set_name, row in figures["totals"].items():
        print(f"TOTAL {set_name}: {row}")


if __name__ == "__main__":
    main()
