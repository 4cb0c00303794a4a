"""Every task and group this package defines, as plain specs: the one list that the YAML generator
(:mod:`lm_eval_octopack.taskgen`), the CLI, doctor, scoring and reports read.

* HumanEvalPack: one :class:`CodeTask` per (scenario x language), from :data:`SCENARIOS` and the language table
  (:mod:`lm_eval_octopack.language_facts`), plus the ``humanevalfix-{lang}`` aliases and the paper's groups.
* INSTRUCTEVAL held-out suites: one :class:`HeldoutTask` per MMLU subject / BBH task / HHH category and shot
  count, DROP and CRASS, and their groups (``weight_by_size``: micro average over items for MMLU, plain mean
  for BBH and HHH; suite and paper-table groups have no score of their own).

Importing this module is cheap; the held-out item lists are read from their suite modules on first use.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatch
from types import MappingProxyType

from lm_eval_octopack.language_facts import LANGUAGES

#: scenario -> (task name prefix, samples per doc). Paper settings: n=20, except that
#: explain-synthesize samples once per description (164 x 20 rows).
SCENARIOS: dict[str, tuple[str, int]] = {
    "fixtests": ("humanevalfixtests", 20),
    "fixdocs": ("humanevalfixdocs", 20),
    "explaindescribe": ("humanevalexplaindescribe", 20),
    "explainsynthesize": ("humanevalexplainsynthesize", 1),
    "synthesize": ("humanevalsynthesize", 20),
}
#: The paper's HumanEvalFix is the fix-with-tests scenario; this is the name users type.
ALIASES: dict[str, str] = {"humanevalfix": "fixtests"}
#: Generates descriptions only (scored by the explain-synthesize stage): no code is executed.
GENERATION_ONLY_SCENARIO = "explaindescribe"


def check_scenario(scenario: str) -> str:
    """Return ``scenario`` unchanged, or raise ``ValueError`` naming the known scenarios."""
    if scenario not in SCENARIOS:
        raise ValueError(f"Unknown HumanEvalPack scenario {scenario!r}; known scenarios: {', '.join(SCENARIOS)}")
    return scenario


#: Held-out suites: the shot counts of their tasks, and the generated answer length (``max_gen_toks``).
HELDOUT_SHOTS: dict[str, tuple[int, ...]] = {"mmlu": (5, 0), "bbh": (3, 0), "drop": (3,), "crass": (3, 0)}
HELDOUT_MAX_GEN_TOKS: dict[str, int] = {"mmlu": 2, "bbh": 32, "drop": 8, "crass": 8}
HELDOUT_TABLES: dict[str, tuple[str, ...]] = {
    "instructeval_table2": (
        "instructeval_mmlu_5shot",
        "instructeval_bbh_3shot",
        "instructeval_drop_3shot",
        "instructeval_crass_3shot",
    ),
    "instructeval_table3": ("instructeval_mmlu_0shot", "instructeval_bbh_0shot", "instructeval_crass_0shot"),
    "instructeval_table4": ("instructeval_hhh",),
}


@dataclass(frozen=True)
class CodeTask:
    """A HumanEvalPack task: one scenario in one language."""

    name: str
    scenario: str
    language: str

    @property
    def repeats(self) -> int:
        return SCENARIOS[self.scenario][1]

    @property
    def executes_code(self) -> bool:
        return self.scenario != GENERATION_ONLY_SCENARIO

    @property
    def path(self) -> str:
        return f"humanevalpack/{self.name.rsplit('-', 1)[0]}/{self.name}.yaml"


@dataclass(frozen=True)
class HeldoutTask:
    """An INSTRUCTEVAL task: generative prefix-match (``max_gen_toks`` set) or HHH loglikelihood (``None``)."""

    name: str
    alias: str
    suite: str
    dataset_kwargs: tuple[tuple[str, object], ...]  # in YAML order
    path: str
    max_gen_toks: int | None = None


@dataclass(frozen=True)
class Group:
    """A group and its members (tasks or groups). ``metric`` is its aggregate score (None: no score of its own):
    the mean of the members' ``metric``, weighted by their sizes when ``weight_by_size``."""

    name: str
    members: tuple[str, ...]
    family: str  # "humanevalpack" or "instructeval"
    path: str
    metric: str | None = None
    weight_by_size: bool = False


Task = CodeTask | HeldoutTask


# ----------------------------------------------------------------------------------------- HumanEvalPack


@functools.cache
def code_tasks() -> Mapping[str, CodeTask]:
    """Every HumanEvalPack task (the reference names, then the ``humanevalfix-{lang}`` aliases); read-only."""
    names = {
        f"{prefix}-{language}": (scenario, language)
        for scenario, (prefix, _) in SCENARIOS.items()
        for language in LANGUAGES
    }
    names |= {
        f"{alias}-{language}": (scenario, language) for alias, scenario in ALIASES.items() for language in LANGUAGES
    }
    return MappingProxyType({name: CodeTask(name, scenario, language) for name, (scenario, language) in names.items()})


def _code_group(name: str, members: list[str], metric: str | None = "pass@1") -> Group:
    return Group(name, tuple(members), "humanevalpack", f"humanevalpack/groups/{name}.yaml", metric)


def _per_language(scenario: str) -> list[str]:
    return [f"{SCENARIOS[scenario][0]}-{language}" for language in LANGUAGES]


def code_groups() -> list[Group]:
    """The paper's columns and rows: group scores are the plain mean of the members' pass@1, as its "Avg."."""
    groups = [
        _code_group("humanevalfix", _per_language("fixtests")),
        _code_group("humanevalfixdocs", _per_language("fixdocs")),
        _code_group("humanevalexplain", _per_language("explainsynthesize")),
        _code_group("humanevalsynthesize", _per_language("synthesize")),
        _code_group("humanevalexplaindescribe", _per_language("explaindescribe"), metric=None),
        _code_group("humanevalpack", ["humanevalfix", "humanevalexplain", "humanevalsynthesize"]),
    ]
    for language in LANGUAGES:
        members = [f"{SCENARIOS[s][0]}-{language}" for s in ("fixtests", "explainsynthesize", "synthesize")]
        groups.append(_code_group(f"humanevalpack-{language}", members))
    return groups


def humanevalpack_tasks() -> dict[str, tuple[str, str]]:
    """HumanEvalPack task name -> (scenario, language)."""
    return {name: (task.scenario, task.language) for name, task in code_tasks().items()}


def humanevalpack_groups() -> dict[str, list[str]]:
    """HumanEvalPack group name -> members (tasks or groups)."""
    return {group.name: list(group.members) for group in code_groups()}


# ----------------------------------------------------------------------------------------- held-out suites


def _heldout_items() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Suite -> (dataset_kwargs key naming one item, the items), for the suites split into member tasks."""
    from lm_eval_octopack.heldout.bbh import BBH_TASKS
    from lm_eval_octopack.heldout.mmlu import MMLU_SUBJECTS

    return {"mmlu": ("instructeval_subject", MMLU_SUBJECTS), "bbh": ("instructeval_task", BBH_TASKS)}


def _hhh_categories() -> tuple[str, ...]:
    from lm_eval_octopack.heldout.hhh import CATEGORIES

    return CATEGORIES


def _heldout_group(name: str, members: list[str], path: str, weight_by_size: bool | None = None) -> Group:
    metric = None if weight_by_size is None else "acc"
    return Group(name, tuple(members), "instructeval", path, metric, bool(weight_by_size))


@functools.cache
def _heldout() -> tuple[dict[str, HeldoutTask], tuple[Group, ...]]:
    tasks: list[HeldoutTask] = []
    groups: list[Group] = []
    for suite, (key, items) in _heldout_items().items():
        for shots in HELDOUT_SHOTS[suite]:
            group = f"instructeval_{suite}_{shots}shot"
            members = [
                HeldoutTask(
                    f"{group}_{item}",
                    item,
                    suite,
                    ((key, item), ("instructeval_shots", shots)),
                    f"instructeval/{suite}/{shots}shot/{item}.yaml",
                    HELDOUT_MAX_GEN_TOKS[suite],
                )
                for item in items
            ]
            tasks += members
            groups.append(
                _heldout_group(
                    group,
                    [task.name for task in members],
                    f"instructeval/{suite}/_{group}.yaml",
                    weight_by_size=suite == "mmlu",
                )
            )
    for suite in ("drop", "crass"):
        for shots in HELDOUT_SHOTS[suite]:
            name = f"instructeval_{suite}_{shots}shot"
            tasks.append(
                HeldoutTask(
                    name,
                    f"{suite}_{shots}shot",
                    suite,
                    (("instructeval_shots", shots),),
                    f"instructeval/{suite}/{name}.yaml",
                    HELDOUT_MAX_GEN_TOKS[suite],
                )
            )
    categories = _hhh_categories()
    tasks += [
        HeldoutTask(
            f"instructeval_hhh_{category}",
            category,
            "hhh",
            (("instructeval_category", category),),
            f"instructeval/hhh/{category}.yaml",
        )
        for category in categories
    ]
    groups.append(
        _heldout_group(
            "instructeval_hhh",
            [f"instructeval_hhh_{c}" for c in categories],
            "instructeval/hhh/_instructeval_hhh.yaml",
            weight_by_size=False,
        )
    )
    for suite, shot_counts in HELDOUT_SHOTS.items():
        groups.append(
            _heldout_group(
                f"instructeval_{suite}",
                [f"instructeval_{suite}_{n}shot" for n in shot_counts],
                f"instructeval/{suite}/_instructeval_{suite}.yaml",
            )
        )
    for name, members in HELDOUT_TABLES.items():
        groups.append(_heldout_group(name, list(members), f"instructeval/_{name}.yaml"))
    groups.append(_heldout_group("instructeval", list(HELDOUT_TABLES), "instructeval/_instructeval.yaml"))
    return {task.name: task for task in tasks}, tuple(groups)


def heldout_tasks() -> dict[str, HeldoutTask]:
    return dict(_heldout()[0])


def heldout_groups() -> list[Group]:
    return list(_heldout()[1])


# ----------------------------------------------------------------------------------------- everything


def tasks() -> dict[str, Task]:
    """Every task of this package by name."""
    return {**code_tasks(), **heldout_tasks()}


def groups() -> dict[str, Group]:
    """Every group of this package by name."""
    return {group.name: group for group in [*code_groups(), *heldout_groups()]}


def tags() -> dict[str, list[str]]:
    """lm-eval tags -> tasks: ``humanevalpack_<scenario>`` for each HumanEvalPack scenario."""
    tagged: dict[str, list[str]] = {}
    for task in code_tasks().values():
        tagged.setdefault(f"humanevalpack_{task.scenario}", []).append(task.name)
    return tagged


def member_tasks() -> dict[str, set[str]]:
    """Every task and group name -> the tasks it stands for (a task stands for itself)."""
    all_tasks, all_groups = tasks(), groups()

    def expand(name: str) -> set[str]:
        return {name} if name in all_tasks else set().union(*(expand(member) for member in all_groups[name].members))

    return {name: expand(name) for name in [*all_tasks, *all_groups]}


def resolve_tasks(patterns: list[str]) -> set[str]:
    """Our task names selected by names, groups or globs (lm-eval matches with fnmatch)."""
    selected: set[str] = set()
    for name, members in member_tasks().items():
        if any(fnmatch(name, pattern) for pattern in patterns):
            selected |= members
    return selected


def task_languages() -> dict[str, set[str]]:
    """Every task and group name -> the languages whose code it executes (empty for held-out suites)."""
    code = code_tasks()
    return {
        name: {code[task].language for task in members if task in code and code[task].executes_code}
        for name, members in member_tasks().items()
    }


def scored_group_of(task: str) -> Group | None:
    """The held-out group with an aggregate score that ``task`` is a member of (MMLU, BBH, HHH), else None."""
    return _scored_heldout_members().get(task)


@functools.cache
def _scored_heldout_members() -> dict[str, Group]:
    return {member: group for group in heldout_groups() if group.metric for member in group.members}
