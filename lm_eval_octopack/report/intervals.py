"""95% intervals over problems for the report's pass@1 cells (bootstrap over problems, see ``stats``)."""

from __future__ import annotations

from collections import defaultdict

from lm_eval_octopack import stats
from lm_eval_octopack.report.model import LANGUAGE_LABELS, LANGUAGES, SCENARIOS, Report, SampleRecord

TITLE = "pass@1 (%) with 95% intervals over problems (bootstrap; n = samples per problem)"
HEADER = ["Task", "Language", "pass@1", "95% CI", "Problems", "n"]


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
    return [scenario, LANGUAGE_LABELS[language], f"{100 * mean:.1f}", f"[{100 * low:.1f}, {100 * high:.1f}]",
            str(len(values)), n]
