"""95% intervals over problems for the report's pass@1 cells (bootstrap over problems, see ``stats``)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from lm_eval_octopack import stats
from lm_eval_octopack.report.load import heldout_group
from lm_eval_octopack.report.model import LANGUAGE_LABELS, LANGUAGES, SCENARIOS, Report, SampleRecord

TITLE = "pass@1 (%) with 95% intervals over problems (bootstrap; n = samples per problem)"
HEADER = ["Task", "Language", "pass@1", "95% CI", "Problems", "n"]
HELDOUT_TITLE = "Held-out suites (%) with 95% intervals over items (bootstrap; groups resampled within each member)"
HELDOUT_HEADER = ["Task", "Metric", "Score", "95% CI", "Items"]


def per_problem_pass_at_1(records: list[SampleRecord]) -> tuple[list[float], list[int]]:
    """pass@1 and sample count per problem; rows of one problem (explain: one per description) are pooled."""
    passed: dict[str, int] = defaultdict(int)
    samples: dict[str, int] = defaultdict(int)
    for record in records:
        key = str(record.task_id if record.task_id is not None else record.doc_id)
        samples[key] += len(record.statuses)
        passed[key] += record.statuses.count("passed")
    keys = [key for key in samples if samples[key]]
    return [passed[key] / samples[key] for key in keys], [samples[key] for key in keys]


def interval_rows(report: Report) -> list[list[str]]:
    """One row per (scenario, language) with samples: pass@1, its interval, problems, samples per problem."""
    by_cell: dict[tuple[str, str], list[SampleRecord]] = defaultdict(list)
    for record in report.samples:
        by_cell[(record.scenario, record.language)].append(record)
    rows = []
    for scenario in SCENARIOS:
        for language in LANGUAGES:
            values, counts = per_problem_pass_at_1(by_cell.get((scenario, language), []))
            if values:
                rows.append(_row(scenario, language, values, counts))
    return rows


def _row(scenario: str, language: str, values: list[float], counts: list[int]) -> list[str]:
    low, high = stats.mean_interval(values)
    n = str(counts[0]) if min(counts) == max(counts) else f"{min(counts)}-{max(counts)}"
    mean = sum(values) / len(values)
    return [
        scenario,
        LANGUAGE_LABELS[language],
        f"{100 * mean:.1f}",
        f"[{100 * low:.1f}, {100 * high:.1f}]",
        str(len(values)),
        n,
    ]


def heldout_rows(report: Report) -> list[list[str]]:
    """One row per held-out task and metric with per-item scores, then its groups' rows (Avg.), aggregated
    as the group YAML does: micro over items (weight_by_size) or the plain mean of the members."""
    rows = []
    members: dict[tuple[str, str], list[list[float]]] = defaultdict(list)
    weighting: dict[str, bool] = {}
    for task in sorted(report.heldout_items):
        group = heldout_group(task)
        for metric, values in sorted(report.heldout_items[task].items()):
            if not values:
                continue
            rows.append(_heldout_row(task, metric, [values], stats.mean_interval(values)))
            if group:
                members[(group[0], metric)].append(values)
                weighting[group[0]] = group[1]
    for (group, metric), strata in sorted(members.items()):
        if len(strata) > 1:
            weights = [len(values) for values in strata] if weighting[group] else None
            interval = stats.group_mean_interval(strata, weights)
            rows.append(_heldout_row(f"{group} (Avg.)", metric, strata, interval, weights))
    return rows


def _heldout_row(
    name: str, metric: str, strata: list[list[float]], interval: tuple[float, float], weights: list[int] | None = None
) -> list[str]:
    mean = float(np.average([np.mean(values) for values in strata], weights=weights))
    low, high = interval
    items = sum(len(values) for values in strata)
    return [name, metric, f"{100 * mean:.1f}", f"[{100 * low:.1f}, {100 * high:.1f}]", str(items)]
