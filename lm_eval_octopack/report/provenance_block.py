"""A compact provenance block per run of a report, and what differs between the runs.

Reads the structure :func:`lm_eval_octopack.provenance.run_provenance` returns; a field a run does not
record (an older results file, a plain ``lm_eval`` run without the sidecar) reads "unknown".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from lm_eval_octopack import provenance as prov
from lm_eval_octopack.report.model import Report, RunInfo

UNKNOWN = "unknown"
HEADER = ["Setting", "Value"]
HASH_CHARS = 12
MAX_NAMED_TASKS = 3
MAX_LISTED_DIFFERENCES = 6


def provenance_sections(report: Report) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) per run: the settings that produced it."""
    many = len(report.runs) > 1
    sections = []
    for index, run in enumerate(report.runs, start=1):
        title = f"Provenance{f' of run {index}' if many else ''}: {run.model} ({run.source})"
        sections.append((title, HEADER, provenance_rows(run)))
    return sections


def provenance_rows(run: RunInfo) -> list[list[str]]:
    record = run.provenance
    return [
        ["Model", _model(record)],
        ["lm-eval-octopack", _text(record.get("octopack_version"))],
        ["lm-eval", _text(record.get("lm_eval_version"))],
        ["Dataset", _per_task(record, lambda task: _dataset(task, record.get("dataset_files")))],
        ["Toolchains", _toolchains(record.get("toolchains"))],
        ["Verdict rules", _text(record.get("verdict_rules_version"))],
        ["Sandbox", _text(record.get("sandbox"))],
        ["Backend", _text(record.get("backend")) if record.get("backend") else _per_task(record, _option("backend"))],
        ["Seeds", _pairs(record.get("seeds"))],
        ["Prompt template", _per_task(record, _option("prompt"))],
        ["Generation kwargs", _generation(record)],
        ["--limit", "none" if record.get("limit") is None else f"{record['limit']:g} (a subset of the problems)"],
    ]


def difference_notes(report: Report) -> list[str]:
    """One line per run whose provenance differs from run 1's (the model aside; tasks compared where both
    have them), and the sections only one of them records."""
    if len(report.runs) < 2:
        return []
    first = report.runs[0].provenance
    notes = []
    for index, run in enumerate(report.runs[1:], start=2):
        shared_tasks = set(first.get("tasks") or {}) & set(run.provenance.get("tasks") or {})
        found = prov.differences(first, run.provenance, shared_tasks)
        if found:
            listed = [f"{item['key']}: {item['a']} vs {item['b']}" for item in found[:MAX_LISTED_DIFFERENCES]]
            more = f"; and {len(found) - MAX_LISTED_DIFFERENCES} more" if len(found) > MAX_LISTED_DIFFERENCES else ""
            knobs = ", ".join(sorted({item["knob"] for item in found}))
            notes.append(f"Run {index} differs from run 1 in {knobs} ({'; '.join(listed)}{more}).")
        missing = prov.unrecorded(first, run.provenance)
        if missing:
            notes.append(f"Run {index} and run 1: recorded by one of them only, not compared: {', '.join(missing)}.")
    if not notes:
        notes.append(f"All {len(report.runs)} runs have the same provenance (the model aside).")
    return notes


# --------------------------------------------------------------------------- fields


def _text(value: Any) -> str:
    return UNKNOWN if value is None or value == "" else str(value)


def _model(record: Mapping[str, Any]) -> str:
    model = record.get("model") or {}
    identity = model.get("pretrained") or model.get("path") or model.get("model")
    name = " ".join(str(part) for part in (model.get("name"), identity) if part) or UNKNOWN
    args = _pairs(record.get("model_args"), empty="")
    return f"{name} ({args})" if args else name


def _pairs(values: Any, empty: str = UNKNOWN) -> str:
    if not isinstance(values, Mapping) or not values:
        return empty
    return ", ".join(f"{key}={_compact(value)}" for key, value in values.items())


def _compact(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def _option(key: str):  # noqa: ANN202 (a per-task field reader)
    return lambda task: None if task.get(key) is None else str(task[key])


def _per_task(record: Mapping[str, Any], field_of) -> str:  # noqa: ANN001
    """The field's value if every task that records it agrees, else each value with the tasks that have it."""
    by_value: dict[str, list[str]] = {}
    for task, values in sorted((record.get("tasks") or {}).items()):
        value = field_of(values) if isinstance(values, Mapping) else None
        if value is not None:
            by_value.setdefault(value, []).append(task)
    if not by_value:
        return UNKNOWN
    if len(by_value) == 1:
        return next(iter(by_value))
    return "; ".join(f"{value} ({_task_names(tasks)})" for value, tasks in by_value.items())


def _task_names(tasks: list[str]) -> str:
    named = ", ".join(tasks[:MAX_NAMED_TASKS])
    return named if len(tasks) <= MAX_NAMED_TASKS else f"{named} and {len(tasks) - MAX_NAMED_TASKS} more"


def _dataset(task: Mapping[str, Any], dataset_files: Any) -> str | None:
    """``local DIR (sha256 python.jsonl 0123456789ab)`` or ``bigcode/humanevalpack @ REVISION``."""
    source = task.get("dataset")
    if not isinstance(source, Mapping) or not source:
        return None
    files = dict(source.get("files") or {})
    if source.get("data_dir"):
        where = f"local {source['data_dir']}"
        recorded = (dataset_files or {}).get(source["data_dir"]) or {} if isinstance(dataset_files, Mapping) else {}
        if not files and task.get("language") in recorded:  # the sidecar's hashes (older results files)
            files[f"{task['language']}.jsonl"] = recorded[task["language"]]
    else:
        where = f"{source.get('path') or UNKNOWN} @ {_text(source.get('revision'))}"
    hashes = ", ".join(f"{name} {str(digest)[:HASH_CHARS]}" for name, digest in sorted(files.items()))
    return f"{where} (sha256 {hashes})" if hashes else where


def _toolchains(toolchains: Any) -> str:
    if not isinstance(toolchains, Mapping) or not toolchains:
        return UNKNOWN
    parts = []
    for language, tools in sorted(toolchains.items()):
        found = _pairs(tools, empty="") if isinstance(tools, Mapping) else _text(tools)
        parts.append(f"{language}: {found or 'none found'}")
    return "; ".join(parts)


def _generation(record: Mapping[str, Any]) -> str:
    per_task = _per_task(record, lambda task: _pairs(task.get("generation_kwargs"), empty="") or None)
    cli = _pairs(record.get("gen_kwargs"), empty="")
    return f"{per_task}; --gen_kwargs {cli}" if cli else per_task
