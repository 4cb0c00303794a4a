"""Per-bug-type / per-failure-symptom pass@1 for the Fix tasks, and verdict status counts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from statistics import mean

from lm_eval_octopack.report.model import LANGUAGES, STATUSES, Report, SampleRecord, bug_type_group

FIX_SCENARIOS = ("HumanEvalFix", "HumanEvalFixDocs")


@dataclass
class BreakdownRow:
    scenario: str
    key: str  # bug type, bug-type group or failure symptom
    by_language: dict[str, tuple[int, float]]  # language -> (docs, mean pass@1 in percent)

    def overall(self) -> tuple[int, float]:
        docs = sum(count for count, _ in self.by_language.values())
        weighted = sum(count * value for count, value in self.by_language.values())
        return docs, (weighted / docs if docs else 0.0)


def _fix_samples(report: Report) -> list[SampleRecord]:
    return [s for s in report.samples if s.scenario in FIX_SCENARIOS and s.pass_at_1 is not None]


def _breakdown(report: Report, key_of) -> list[BreakdownRow]:  # noqa: ANN001
    groups: dict[tuple[str, str], dict[str, list[float]]] = {}
    for sample in _fix_samples(report):
        key = key_of(sample)
        if key is None:
            continue
        groups.setdefault((sample.scenario, key), {}).setdefault(sample.language, []).append(sample.pass_at_1)
    rows = []
    for (scenario, key), by_language in sorted(groups.items()):
        cells = {lang: (len(v), 100.0 * mean(v)) for lang, v in by_language.items()}
        rows.append(BreakdownRow(scenario, key, dict(sorted(cells.items(), key=lambda kv: LANGUAGES.index(kv[0])))))
    return rows


def bug_type_breakdown(report: Report) -> list[BreakdownRow]:
    return _breakdown(report, lambda sample: sample.bug_type)


def bug_group_breakdown(report: Report) -> list[BreakdownRow]:
    """The paper's grouping: missing logic / excess logic / wrong logic (all other bug types)."""
    return _breakdown(report, lambda sample: bug_type_group(sample.bug_type) if sample.bug_type else None)


def failure_symptom_breakdown(report: Report) -> list[BreakdownRow]:
    return _breakdown(report, lambda sample: sample.failure_symptoms)


@dataclass
class StatusRow:
    scenario: str
    language: str
    counts: dict[str, int]  # status -> number of samples

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def status_breakdown(report: Report) -> list[StatusRow]:
    """Verdict statuses per (scenario, language), over every logged sample."""
    counters: dict[tuple[str, str], Counter] = {}
    for sample in report.samples:
        counters.setdefault((sample.scenario, sample.language), Counter()).update(sample.statuses)
    rows = []
    for (scenario, language), counter in counters.items():
        if not counter:
            continue
        counts = {status: counter.get(status, 0) for status in STATUSES}
        counts.update({status: n for status, n in counter.items() if status not in counts})
        rows.append(StatusRow(scenario, language, counts))
    return sorted(rows, key=lambda row: (row.scenario, LANGUAGES.index(row.language)))
