"""``lm-eval-octopack compare RUN_A RUN_B``: paired differences with 95% intervals and p-values.

Each run is a results file or an output directory, with the samples files lm-eval wrote beside it
(``--log_samples``): the comparison is problem by problem, so the per-problem outcomes are needed.
Statistics: :mod:`lm_eval_octopack.stats`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lm_eval_octopack import provenance as prov
from lm_eval_octopack import stats
from lm_eval_octopack.humanevalpack.metrics import estimate_pass_at_k
from lm_eval_octopack.report.load import _read_jsonl, _results_files, _samples_beside, heldout_group, model_name_of
from lm_eval_octopack.report.model import GENERATION_ONLY, LANGUAGES, parse_task

CODE_FILTER = "execution"
#: Group rows, the paper's "Avg.": plain mean over the member tasks (one per language) present in both runs.
GROUPS = {
    "humanevalfix": ["HumanEvalFix"],
    "humanevalfixdocs": ["HumanEvalFixDocs"],
    "humanevalexplain": ["HumanEvalExplain"],
    "humanevalsynthesize": ["HumanEvalSynthesize"],
    "humanevalpack": ["HumanEvalFix", "HumanEvalExplain", "HumanEvalSynthesize"],
}


@dataclass
class TaskData:
    """One task of one run: reported metrics and the samples lines per problem."""

    task: str
    reported: dict[str, float]
    problems: dict[str, list[Mapping[str, Any]]] = field(default_factory=dict)

    @property
    def is_code(self) -> bool:
        return parse_task(self.task) is not None

    def values(self, metric: str) -> dict[str, float] | None:
        """Per-problem values of ``metric`` (pass@k estimated from each problem's samples), or None
        when a problem lacks what the metric needs (fewer than k samples, no such metric)."""
        if self.is_code:
            return self._pass_at_k(int(metric.split("@")[1]))
        per_problem = {}
        for key, lines in self.problems.items():
            scores = [float(line[metric]) for line in lines if isinstance(line.get(metric), int | float)]
            if not scores:
                return None
            per_problem[key] = sum(scores) / len(scores)
        return per_problem

    def _pass_at_k(self, k: int) -> dict[str, float] | None:
        per_problem = {}
        for key, lines in self.problems.items():
            verdicts = [v for line in lines for v in line.get("verdicts") or [] if isinstance(v, Mapping)]
            if len(verdicts) < k:
                return None
            passed = sum(1 for verdict in verdicts if verdict.get("passed"))
            per_problem[key] = estimate_pass_at_k(len(verdicts), passed, k)
        return per_problem

    def samples_per_problem(self) -> str:
        counts = sorted({sum(len(line.get("verdicts") or [1]) for line in lines) for lines in self.problems.values()})
        return "-".join(str(count) for count in (counts[:1] + counts[-1:] if len(counts) > 1 else counts))


@dataclass
class Run:
    label: str
    model: str
    limit: float | None
    tasks: dict[str, TaskData]
    provenance: dict[str, Any]

    def describe(self) -> str:
        limited = f"; --limit {self.limit:g}: a subset, not comparable to published numbers" if self.limit else ""
        return f"{self.model} ({self.label}{limited})"


def load_run(path: str | Path) -> Run:
    """Results files under ``path`` (a file or a directory) and the samples written beside them; later
    files win when two give the same task."""
    tasks: dict[str, TaskData] = {}
    model, limit, provenance = "", None, {"tasks": {}}
    for results_file in _results_files(Path(path)):
        results = json.loads(results_file.read_text())
        samples = {task: _read_jsonl(file) for task, file in _samples_beside(results_file).items()}
        model = model_name_of(results) or model
        limit = (results.get("config") or {}).get("limit") or limit
        provenance = _merge(provenance, prov.run_provenance(results, samples, prov.read_sidecar(results_file)))
        for task, task_results in (results.get("results") or {}).items():
            if task in samples and (parse_task(task) or ("", ""))[0] != GENERATION_ONLY:
                tasks[task] = _task_data(task, task_results, samples[task])
    return Run(str(path), model or "model", limit, tasks, provenance)


def _merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return {**old, **new, "tasks": {**old.get("tasks", {}), **new.get("tasks", {})}}


def _task_data(task: str, task_results: Mapping[str, Any], lines: list[Mapping[str, Any]]) -> TaskData:
    reported = _reported_metrics(task_results)
    chosen_filter = CODE_FILTER if parse_task(task) else _main_filter(task_results)
    data = TaskData(task, reported)
    for line in lines:
        if line.get("filter", chosen_filter) != chosen_filter:
            continue
        doc = line.get("doc") or {}
        key = str(doc.get("task_id") if parse_task(task) and doc.get("task_id") else line.get("doc_id"))
        data.problems.setdefault(key, []).append(line)
    return data


def _reported_metrics(task_results: Mapping[str, Any]) -> dict[str, float]:
    metrics = {}
    for key, value in task_results.items():
        name, _, _ = key.partition(",")
        if "," in key and "_stderr" not in name and isinstance(value, int | float) and not isinstance(value, bool):
            metrics.setdefault(name, float(value))
    return metrics


def _main_filter(task_results: Mapping[str, Any]) -> str:
    filters = sorted({key.partition(",")[2] for key in task_results if "," in key})
    return filters[0] if filters else "none"


# --------------------------------------------------------------------------- comparing


@dataclass
class Row:
    name: str
    metric: str
    result: stats.PairedResult
    members: int = 1  # tasks averaged (groups)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "task": self.name,
            "metric": self.metric,
            "members": self.members,
            "note": self.note,
            **self.result.as_dict(),
        }


@dataclass
class Comparison:
    run_a: Run
    run_b: Run
    rows: list[Row]
    differences: list[dict]
    warnings: list[str]
    iterations: int
    seed: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "a": _run_dict(self.run_a),
            "b": _run_dict(self.run_b),
            "method": stats.METHOD,
            "iterations": self.iterations,
            "seed": self.seed,
            "rows": [row.as_dict() for row in self.rows],
            "differences": self.differences,
            "warnings": self.warnings,
        }


def _run_dict(run: Run) -> dict[str, Any]:
    return {"source": run.label, "model": run.model, "limit": run.limit, "provenance": run.provenance}


def compare_runs(
    run_a: Run,
    run_b: Run,
    iterations: int = stats.DEFAULT_ITERATIONS,
    seed: int = stats.DEFAULT_SEED,
    ablated: Iterable[str] = (),
    tasks: Iterable[str] | None = None,
) -> Comparison:
    """Every task in both runs (or ``tasks``), each metric both report, then the group rows."""
    common = sorted(set(run_a.tasks) & set(run_b.tasks) & set(tasks or run_a.tasks))
    rows, warnings = [], []
    for task in common:
        task_rows, note = _task_rows(run_a.tasks[task], run_b.tasks[task], iterations, seed)
        rows += task_rows
        if note:
            warnings.append(f"{task}: {note}")
    rows += _group_rows(run_a, run_b, common, iterations, seed)
    rows += _heldout_group_rows(run_a, run_b, common, iterations, seed)
    found = prov.differences(run_a.provenance, run_b.provenance, common)
    warnings += prov.provenance_warnings(found, ablated)
    missing = prov.unrecorded(run_a.provenance, run_b.provenance)
    if missing:
        warnings.append(
            f"recorded by one run only, not compared: {', '.join(missing)} "
            "(a run made before provenance was recorded, or one without code execution, lacks them)"
        )
    warnings += [
        f"run {side} was made with --limit {run.limit:g}: a subset of the problems"
        for side, run in (("A", run_a), ("B", run_b))
        if run.limit
    ]
    only = sorted(set(run_a.tasks) ^ set(run_b.tasks))
    if only and tasks is None:
        warnings.append(f"tasks in only one run (not compared): {', '.join(only)}")
    return Comparison(run_a, run_b, rows, found, warnings, iterations, seed)


def common_metrics(a: TaskData, b: TaskData) -> list[str]:
    names = set(a.reported) & set(b.reported)
    if a.is_code:
        names = {name for name in names if name.startswith("pass@")}
    return sorted(
        names, key=lambda name: (not name.startswith("pass@"), int(name.split("@")[1]) if "@" in name else 0, name)
    )


def paired_values(a: TaskData, b: TaskData, metric: str) -> tuple[list[float], list[float]] | None:
    """The two runs' values on the problems both have, in the same order."""
    values_a, values_b = a.values(metric), b.values(metric)
    if not values_a or not values_b:
        return None
    keys = sorted(set(values_a) & set(values_b))
    if not keys:
        return None
    return [values_a[key] for key in keys], [values_b[key] for key in keys]


def _task_rows(a: TaskData, b: TaskData, iterations: int, seed: int) -> tuple[list[Row], str]:
    rows = []
    shared = len(set(a.problems) & set(b.problems))
    for metric in common_metrics(a, b):
        pair = paired_values(a, b, metric)
        if pair is not None:
            result = stats.paired_comparison([pair[0]], [pair[1]], iterations, seed)
            rows.append(Row(a.task, metric, result, note=f"n={a.samples_per_problem()}/{b.samples_per_problem()}"))
    note = ""
    if shared < max(len(a.problems), len(b.problems)):
        note = f"paired on the {shared} problems both runs have (A {len(a.problems)}, B {len(b.problems)})"
    return rows, note


def _group_rows(run_a: Run, run_b: Run, common: list[str], iterations: int, seed: int) -> list[Row]:
    rows = []
    for group, scenarios in GROUPS.items():
        members = _members(common, scenarios)
        if len(members) < 2:
            continue
        metrics = set.intersection(*(set(common_metrics(run_a.tasks[t], run_b.tasks[t])) for t in members))
        for metric in sorted(metrics, key=lambda name: int(name.split("@")[1])):
            pairs = [paired_values(run_a.tasks[t], run_b.tasks[t], metric) for t in members]
            if any(pair is None for pair in pairs):
                continue
            result = stats.paired_comparison([p[0] for p in pairs], [p[1] for p in pairs], iterations, seed)
            rows.append(Row(group, metric, result, members=len(members), note=f"mean of {len(members)} tasks"))
    return rows


def _heldout_group_rows(run_a: Run, run_b: Run, common: list[str], iterations: int, seed: int) -> list[Row]:
    """Held-out groups with an aggregate score, weighted as their YAML says (mmlu: by items, micro)."""
    groups: dict[str, list[str]] = {}
    weighting: dict[str, bool] = {}
    for task in common:
        if found := heldout_group(task):
            groups.setdefault(found[0], []).append(task)
            weighting[found[0]] = found[1]
    rows = []
    for group, members in sorted(groups.items()):
        if len(members) < 2:
            continue
        metrics = set.intersection(*(set(common_metrics(run_a.tasks[t], run_b.tasks[t])) for t in members))
        for metric in sorted(metrics):
            pairs = [paired_values(run_a.tasks[t], run_b.tasks[t], metric) for t in members]
            if any(pair is None for pair in pairs):
                continue
            weights = [len(pair[0]) for pair in pairs] if weighting[group] else None
            result = stats.paired_comparison([p[0] for p in pairs], [p[1] for p in pairs], iterations, seed, weights)
            how = "items pooled (weight_by_size)" if weights else "mean"
            rows.append(Row(group, metric, result, members=len(members), note=f"{how} of {len(members)} tasks"))
    return rows


def _members(tasks: list[str], scenarios: list[str]) -> list[str]:
    """One task per (scenario, language): ``humanevalfix-L`` and ``humanevalfixtests-L`` are the same."""
    chosen: dict[tuple[str, str], str] = {}
    for task in tasks:
        parsed = parse_task(task)
        if parsed and parsed[0] in scenarios:
            chosen.setdefault(parsed, task)
    order = {language: index for index, language in enumerate(LANGUAGES)}
    return [chosen[key] for key in sorted(chosen, key=lambda key: (scenarios.index(key[0]), order[key[1]]))]


# --------------------------------------------------------------------------- rendering

HEADER = ["Task", "Metric", "A", "B", "B - A", "95% CI", "p", "Problems"]


def table_cells(row: Row) -> list[str]:
    result = row.result
    label = f"{row.name} (Avg.)" if row.members > 1 else row.name
    return [
        label,
        row.metric,
        f"{100 * result.score_a:.1f}",
        f"{100 * result.score_b:.1f}",
        f"{100 * result.difference:+.1f}",
        f"[{100 * result.low:+.1f}, {100 * result.high:+.1f}]",
        stats.format_p(result.p_value),
        str(result.problems),
    ]


def _preamble(comparison: Comparison) -> list[str]:
    return [
        f"A: {comparison.run_a.describe()}",
        f"B: {comparison.run_b.describe()}",
        f"Scores x 100, B - A. {stats.METHOD}; {comparison.iterations} iterations, seed {comparison.seed}. "
        "Group rows (Avg.) aggregate their member tasks as the group does (plain mean; held-out mmlu: "
        "items pooled), resampled within each member.",
        "Settings that differ (besides the model): "
        + (", ".join(sorted({item["knob"] for item in comparison.differences})) or "none"),
    ]


def render_markdown(comparison: Comparison) -> str:
    lines = ["# HumanEvalPack paired comparison", "", *(f"{line}  " for line in _preamble(comparison)), ""]
    lines += ["| " + " | ".join(HEADER) + " |", "| " + " | ".join(["---"] * 2 + ["---:"] * 6) + " |"]
    lines += ["| " + " | ".join(table_cells(row)) + " |" for row in comparison.rows]
    if comparison.warnings:
        lines += ["", "**Warnings**", "", *(f"- {warning}" for warning in comparison.warnings)]
    lines += ["", "**Provenance**", "", "| Setting | A | B |", "| --- | --- | --- |"]
    lines += [
        "| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in provenance_table(comparison)
    ]
    return "\n".join(lines) + "\n"


def provenance_table(comparison: Comparison) -> list[list[str]]:
    """``[setting, A, B]`` rows of the two runs' provenance blocks (as ``report`` prints them)."""
    from lm_eval_octopack.report.model import RunInfo
    from lm_eval_octopack.report.provenance_block import provenance_rows

    blocks = [
        provenance_rows(RunInfo(run.label, run.model, run.provenance)) for run in (comparison.run_a, comparison.run_b)
    ]
    return [[row_a[0], row_a[1], row_b[1]] for row_a, row_b in zip(*blocks, strict=True)]


def render_console(comparison: Comparison, console: Any = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or (Console() if sys.stdout.isatty() else Console(width=160))
    for line in _preamble(comparison):
        console.print(line, highlight=False)
    table = Table(title="Paired comparison")
    for index, name in enumerate(HEADER):
        table.add_column(name, justify="left" if index < 2 else "right")
    for row in comparison.rows:
        table.add_row(*table_cells(row), style="bold" if row.members > 1 else None)
    console.print(table)
    for warning in comparison.warnings:
        console.print(f"warning: {warning}", style="yellow", highlight=False)


# --------------------------------------------------------------------------- CLI


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lm-eval-octopack compare",
        description=f"Compare two runs task by task, paired over problems. {stats.METHOD}.",
    )
    parser.add_argument("run_a", metavar="RUN_A", help="results file or output directory (with samples files)")
    parser.add_argument("run_b", metavar="RUN_B", help="the other run; differences are B - A")
    parser.add_argument("--tasks", nargs="+", metavar="TASK", help="only these tasks (default: all in both)")
    parser.add_argument(
        "--ablate",
        nargs="+",
        default=[],
        metavar="KNOB",
        help="the setting(s) the runs are meant to differ in (e.g. prompt, temperature); any other difference warns",
    )
    parser.add_argument("--iterations", type=int, default=stats.DEFAULT_ITERATIONS, help="bootstrap/permutation draws")
    parser.add_argument("--seed", type=int, default=stats.DEFAULT_SEED)
    parser.add_argument("--markdown", type=Path, metavar="OUT.md", help="write a Markdown table ('-': stdout)")
    parser.add_argument("--json", type=Path, metavar="OUT.json", help="write JSON ('-': stdout)")
    parser.add_argument("--quiet", action="store_true", help="no console table")
    return parser


def main_compare(argv: list[str]) -> int:
    """Entry point of ``lm-eval-octopack compare``; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        runs = load_run(args.run_a), load_run(args.run_b)
    except (FileNotFoundError, ValueError) as error:
        print(f"lm-eval-octopack compare: {error}", file=sys.stderr)
        return 2
    comparison = compare_runs(*runs, iterations=args.iterations, seed=args.seed, ablated=args.ablate, tasks=args.tasks)
    if not comparison.rows:
        print("lm-eval-octopack compare: no task with samples in both runs (run with --log_samples)", file=sys.stderr)
        return 1
    if not args.quiet and "-" not in (str(args.markdown), str(args.json)):
        render_console(comparison)
    _write(args.markdown, render_markdown(comparison))
    _write(args.json, json.dumps(comparison.as_dict(), indent=2, default=str) + "\n")
    return 0


def _write(path: Path | None, text: str) -> None:
    if path is None:
        return
    if str(path) == "-":
        sys.stdout.write(text)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main_compare(sys.argv[1:]))
