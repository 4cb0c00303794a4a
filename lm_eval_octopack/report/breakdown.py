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


@dataclass
class TimeoutRow:
    """Time lost to timeouts in one (scenario, language) cell, from the verdict seconds in the samples.

    Identical programs (same problem, same final code) run once, so each distinct program counts once;
    seconds are None where a verdict did not record them (samples written before verdicts had seconds)."""

    scenario: str
    language: str
    timeouts: int  # samples with a timeout verdict
    timed_out_programs: int  # distinct programs among them
    seconds_lost: float | None  # summed over the distinct timed-out programs
    seconds_total: float | None  # summed over every distinct program of the cell

    @property
    def share_lost(self) -> float | None:
        if self.seconds_lost is None or not self.seconds_total:
            return None
        return self.seconds_lost / self.seconds_total


def timeout_breakdown(report: Report) -> list[TimeoutRow]:
    """One row per (scenario, language) with verdicts, if any sample timed out or recorded its seconds."""
    records = [sample for sample in report.samples if sample.statuses]
    if not any("timeout" in s.statuses or any(t is not None for t in s.seconds) for s in records):
        return []
    programs: dict[tuple[str, str], dict[tuple, tuple[str, float | None]]] = {}
    timeouts: Counter = Counter()
    for sample in records:
        cell = programs.setdefault((sample.scenario, sample.language), {})
        for index, status in enumerate(sample.statuses):
            seconds = sample.seconds[index] if index < len(sample.seconds) else None
            cell.setdefault(_program_key(sample, index), (status, seconds))
            timeouts[(sample.scenario, sample.language)] += status == "timeout"
    rows = [_timeout_row(key, distinct, timeouts[key]) for key, distinct in programs.items()]
    return sorted(rows, key=lambda row: (row.scenario, LANGUAGES.index(row.language)))


def _program_key(sample: SampleRecord, index: int) -> tuple:
    problem = sample.task_id if sample.task_id is not None else sample.doc_id
    if len(sample.codes) == len(sample.statuses):
        return (sample.task, problem, sample.codes[index])
    return (sample.task, problem, sample.doc_id, index)  # no final code logged: every sample is its own program


def _timeout_row(key: tuple[str, str], distinct: dict[tuple, tuple[str, float | None]], timeouts: int) -> TimeoutRow:
    lost = [seconds for status, seconds in distinct.values() if status == "timeout"]
    every = [seconds for _, seconds in distinct.values()]
    return TimeoutRow(
        scenario=key[0],
        language=key[1],
        timeouts=timeouts,
        timed_out_programs=len(lost),
        seconds_lost=None if None in lost else sum(lost),
        seconds_total=None if None in every else sum(every),
    )
