"""Read lm-eval results (JSON files, output directories or ``simple_evaluate``'s dict) and samples."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from lm_eval_octopack import provenance as prov
from lm_eval_octopack.report.model import GENERATION_ONLY, Report, RunInfo, SampleRecord, TaskScore, parse_task

PREFERRED_FILTER = "execution"
_METRIC_RE = re.compile(r"^(pass@\d+),(.+)$")
_RESULTS_RE = re.compile(r"^results_(.+)\.json$")
_SAMPLES_RE = re.compile(r"^samples_(.+)_([^_]+)\.jsonl$")

ResultsSource = str | Path | Mapping[str, Any]
HELDOUT_PREFIX = "instructeval_"


def build_report(paths: Iterable[ResultsSource], samples: Iterable[str | Path] = ()) -> Report:
    """Merge results from files, directories (searched recursively for ``results_*.json``) or
    in-memory dicts. ``samples_<task>_<date>.jsonl`` files beside a results file with the same
    date are read too, as are the ``samples`` an in-memory dict carries; ``samples`` adds more.
    Later sources win when two give the same task."""
    report = Report(model_name="")
    for source in paths:
        if isinstance(source, Mapping):
            _add_run(report, source, dict(source.get("samples") or {}), "<in-memory results>", {})
            continue
        for results_file in _results_files(Path(source)):
            samples_by_task = {task: _read_jsonl(file) for task, file in _samples_beside(results_file).items()}
            data = json.loads(results_file.read_text())
            _add_run(report, data, samples_by_task, str(results_file), prov.read_sidecar(results_file))
    for samples_file in samples:
        task = _task_of_samples_file(Path(samples_file))
        _add_samples(report, task, _read_jsonl(Path(samples_file)))
    report.model_name = report.model_name or "model"
    return report


def _add_run(
    report: Report, results: Mapping[str, Any], samples: dict[str, list], origin: str, sidecar: Mapping[str, Any]
) -> None:
    _add_results(report, results, origin)
    for task, lines in samples.items():
        _add_samples(report, task, lines)
    provenance = prov.run_provenance(results, samples, sidecar)
    report.runs.append(RunInfo(origin, model_name_of(results) or "model", provenance))


def _results_files(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted(p for p in path.rglob("*.json") if _RESULTS_RE.match(p.name))
        if not found:
            raise FileNotFoundError(f"no results_*.json under {path}")
        return found
    if not path.exists():
        raise FileNotFoundError(path)
    return [path]


def _samples_beside(results_file: Path) -> dict[str, Path]:
    """Samples written in the same run: lm-eval gives them the results file's date suffix."""
    match = _RESULTS_RE.match(results_file.name)
    date = match.group(1) if match else None
    found = {}
    for candidate in sorted(results_file.parent.glob("samples_*.jsonl")):
        parsed = _SAMPLES_RE.match(candidate.name)
        if parsed and (date is None or parsed.group(2) == date):
            found[parsed.group(1)] = candidate
    return found


def _task_of_samples_file(path: Path) -> str:
    parsed = _SAMPLES_RE.match(path.name)
    if not parsed:
        raise ValueError(f"{path.name}: expected samples_<task>_<date>.jsonl")
    return parsed.group(1)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def model_name_of(results: Mapping[str, Any]) -> str:
    if results.get("model_name"):
        return str(results["model_name"])
    config = results.get("config") or {}
    model_args = config.get("model_args")
    if isinstance(model_args, Mapping):
        model_args = ",".join(f"{k}={v}" for k, v in model_args.items())
    for part in str(model_args or "").split(","):
        key, _, value = part.partition("=")
        if key.strip() in ("pretrained", "model", "path") and value:
            return value.strip()
    return str(config.get("model") or "")


def pass_metrics(task_results: Mapping[str, Any]) -> dict[str, float]:
    """``{"pass@1": x, ...}`` from ``"pass@1,<filter>"`` keys, preferring the ``execution`` filter."""
    by_filter: dict[str, dict[str, float]] = {}
    for key, value in task_results.items():
        match = _METRIC_RE.match(key)
        if match and isinstance(value, int | float):
            by_filter.setdefault(match.group(2), {})[match.group(1)] = float(value)
    if not by_filter:
        return {}
    return by_filter.get(PREFERRED_FILTER) or by_filter[sorted(by_filter)[0]]


def _add_results(report: Report, results: Mapping[str, Any], origin: str) -> None:
    report.sources.append(origin)
    report.model_name = report.model_name or model_name_of(results)
    n_samples = results.get("n-samples") or {}
    run_limit = (results.get("config") or {}).get("limit")
    for group, group_results in (results.get("groups") or {}).items():
        if parse_task(group) is None:  # our HumanEvalPack averages are recomputed from the tasks
            report.other_results[group] = dict(group_results)
    for task, task_results in (results.get("results") or {}).items():
        docs = doc_counts(n_samples.get(task), run_limit)
        if docs is not None:
            report.limited_tasks[task] = docs
        else:
            report.limited_tasks.pop(task, None)  # a later full run of the task replaces a limited one
        parsed = parse_task(task)
        if parsed is None:
            report.other_results[task] = dict(task_results)
            effective = (n_samples.get(task) or {}).get("effective")
            if isinstance(effective, int):
                report.item_counts[task] = effective
            continue
        scenario, language = parsed
        if scenario == GENERATION_ONLY:
            report.generation_only.append(task)
            continue
        metrics = pass_metrics(task_results)
        if metrics:
            n_docs = (n_samples.get(task) or {}).get("effective")
            report.scores[task] = TaskScore(task, scenario, language, metrics, n_docs, limited=docs is not None)


def doc_counts(task_counts: Mapping[str, Any] | None, run_limit: Any) -> tuple[int | None, int | None] | None:
    """``(scored, total)`` docs when a task was scored on a subset, else None.

    lm-eval records ``n-samples`` ``{"original", "effective"}`` per task; without them, a run with
    ``config.limit`` set counts as limited (its sizes unknown)."""
    counts = task_counts or {}
    effective, original = counts.get("effective"), counts.get("original")
    if isinstance(effective, int) and isinstance(original, int):
        return (effective, original) if effective < original else None
    if run_limit is not None:
        return (effective if isinstance(effective, int) else None, None)
    return None


def _add_samples(report: Report, task: str, lines: Iterable[Mapping[str, Any]]) -> None:
    parsed = parse_task(task)
    if parsed is None and task.startswith(HELDOUT_PREFIX):
        report.heldout_items[task] = heldout_item_scores(list(lines))
        return
    if parsed is None or parsed[0] == GENERATION_ONLY:
        return
    report.samples = [record for record in report.samples if record.task != task]
    for line in lines:
        if line.get("filter", PREFERRED_FILTER) != PREFERRED_FILTER:
            continue
        report.samples.append(_sample_record(task, parsed, line))


def _sample_record(task: str, parsed: tuple[str, str], line: Mapping[str, Any]) -> SampleRecord:
    doc = line.get("doc") or {}
    verdicts = line.get("verdicts") or []
    statuses = [str(verdict.get("status", "error")) for verdict in verdicts if isinstance(verdict, Mapping)]
    pass_at_1 = line.get("pass@1")
    if pass_at_1 is None and statuses:
        pass_at_1 = statuses.count("passed") / len(statuses)
    seconds = [_seconds(verdict) for verdict in verdicts if isinstance(verdict, Mapping)]
    return SampleRecord(
        task=task,
        scenario=parsed[0],
        language=parsed[1],
        doc_id=line.get("doc_id"),
        task_id=doc.get("task_id"),
        bug_type=doc.get("bug_type"),
        failure_symptoms=doc.get("failure_symptoms"),
        pass_at_1=None if pass_at_1 is None else float(pass_at_1),
        statuses=statuses,
        seconds=seconds,
        codes=_final_codes(line.get("filtered_resps")),
    )


def _seconds(verdict: Mapping[str, Any]) -> float | None:
    value = verdict.get("seconds")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _final_codes(filtered: Any) -> list[str]:
    """The strings in lm-eval's ``filtered_resps`` (one list per request: ``[[code, ...]]``), flattened."""
    if isinstance(filtered, str):
        return [filtered]
    if isinstance(filtered, list):
        return [code for item in filtered for code in _final_codes(item)]
    return []


def heldout_item_scores(lines: list[Mapping[str, Any]]) -> dict[str, list[float]]:
    """Per-item values of each metric lm-eval logged (``"metrics": ["acc"]``, ``"acc": 1.0``), one filter
    (the first by name, as ``compare`` picks it)."""
    filters = sorted({str(line.get("filter", "none")) for line in lines})
    scores: dict[str, list[float]] = {}
    for line in lines:
        if str(line.get("filter", "none")) != filters[0]:
            continue
        for metric in line.get("metrics") or []:
            value = line.get(metric)
            if isinstance(value, int | float):  # a bool too: lm-eval may log acc as true/false
                scores.setdefault(str(metric), []).append(float(value))
    return scores


def heldout_group(task: str) -> tuple[str, bool] | None:
    """``(group, weight_by_size)`` of a held-out task that belongs to a group with an aggregate score, as the
    catalogue (and so the group's YAML) defines it, else None. weight_by_size: True is a micro average over
    items (MMLU), False a plain mean of the members (BBH, HHH); suite and paper-table groups have no score."""
    from lm_eval_octopack.catalogue import scored_group_of

    group = scored_group_of(task)
    return (group.name, group.weight_by_size) if group else None
