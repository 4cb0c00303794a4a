"""Report data: HumanEvalPack scores and per-sample verdicts read from lm-eval outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import mean
from typing import Any

from lm_eval_octopack.catalogue import code_tasks
from lm_eval_octopack.language_facts import FACTS

LANGUAGES = list(FACTS)
LANGUAGE_LABELS = {name: facts.display_name for name, facts in FACTS.items()}
SCENARIOS = ["HumanEvalFix", "HumanEvalExplain", "HumanEvalSynthesize", "HumanEvalFixDocs"]
GENERATION_ONLY = "HumanEvalExplainDescribe"
#: The catalogue's scenarios as the paper's rows.
_TASK_SCENARIO = {
    "fixtests": "HumanEvalFix",
    "fixdocs": "HumanEvalFixDocs",
    "explainsynthesize": "HumanEvalExplain",
    "explaindescribe": GENERATION_ONLY,
    "synthesize": "HumanEvalSynthesize",
}
STATUSES = ["passed", "failed", "compile_error", "timeout", "error"]
BUG_TYPE_GROUPS = {"missing logic": "missing", "excess logic": "excess"}  # every other bug type is "wrong" logic


def parse_task(task: str) -> tuple[str, str] | None:
    """``humanevalfixtests-js`` (or ``humanevalfix-js``) -> ("HumanEvalFix", "js"); None for other tasks."""
    found = code_tasks().get(task)
    return (_TASK_SCENARIO[found.scenario], found.language) if found else None


def bug_type_group(bug_type: str) -> str:
    return BUG_TYPE_GROUPS.get(bug_type, "wrong")


@dataclass
class TaskScore:
    task: str
    scenario: str
    language: str
    metrics: dict[str, float]  # "pass@1" -> fraction in [0, 1]
    n_docs: int | None = None
    limited: bool = False  # scored on a subset of the docs (lm-eval --limit / --samples)


@dataclass
class SampleRecord:
    """One doc of one task, as logged in ``samples_<task>_<date>.jsonl``."""

    task: str
    scenario: str
    language: str
    doc_id: int | None
    task_id: str | None
    bug_type: str | None
    failure_symptoms: str | None
    pass_at_1: float | None
    statuses: list[str]
    seconds: list[float | None] = field(default_factory=list)  # per verdict, as the backend measured it
    codes: list[str] = field(default_factory=list)  # the final code per sample (lm-eval's filtered_resps)


@dataclass
class RunInfo:
    """One results file (or in-memory results) of the report, with its provenance (``provenance.run_provenance``)."""

    source: str
    model: str
    provenance: dict[str, Any]


@dataclass
class Cell:
    value: float | None  # percent, one decimal when rendered
    partial: bool = False  # Avg. over fewer than six languages
    limited: bool = False  # from a run on a subset of the docs (--limit)


@dataclass
class TableRow:
    label: str
    cells: list[Cell]  # one per language, then Avg.
    published: bool = False
    source: str | None = None


@dataclass
class Report:
    model_name: str
    scores: dict[str, TaskScore] = field(default_factory=dict)
    samples: list[SampleRecord] = field(default_factory=list)
    generation_only: list[str] = field(default_factory=list)
    other_results: dict[str, dict[str, Any]] = field(default_factory=dict)  # tasks we do not tabulate
    sources: list[str] = field(default_factory=list)
    #: task -> (docs scored, docs in the task; None where unknown) for tasks run on a subset (--limit)
    limited_tasks: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    #: held-out task -> metric -> per-item values, from its samples file
    heldout_items: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    #: task -> items scored (lm-eval's ``n-samples`` ``effective``), for tasks we do not tabulate
    item_counts: dict[str, int] = field(default_factory=dict)
    runs: list[RunInfo] = field(default_factory=list)

    def task_score(self, scenario: str, language: str, metric: str) -> TaskScore | None:
        for score in self.scores.values():
            if score.scenario == scenario and score.language == language and metric in score.metrics:
                return score
        return None

    def scenario_score(self, scenario: str, language: str, metric: str) -> float | None:
        score = self.task_score(scenario, language, metric)
        return None if score is None else score.metrics[metric]

    def scenarios(self) -> list[str]:
        present = {score.scenario for score in self.scores.values()}
        return [scenario for scenario in SCENARIOS if scenario in present]

    def metrics(self) -> list[str]:
        found = {metric for score in self.scores.values() for metric in score.metrics}
        return sorted(found, key=lambda name: int(name.split("@")[1]))

    def row(self, scenario: str, metric: str) -> TableRow:
        scores = [self.task_score(scenario, language, metric) for language in LANGUAGES]
        cells = [Cell(None) if s is None else Cell(100.0 * s.metrics[metric], limited=s.limited) for s in scores]
        average = average_cell([cell.value for cell in cells])
        average.limited = any(cell.limited for cell in cells)
        return TableRow(scenario, cells + [average])

    def heldout_results(self) -> dict[str, dict[str, Any]]:
        return {task: value for task, value in self.other_results.items() if task.startswith("instructeval_")}


def average_cell(values: list[float | None]) -> Cell:
    present = [value for value in values if value is not None]
    if not present:
        return Cell(None)
    return Cell(mean(present), partial=len(present) < len(values))
