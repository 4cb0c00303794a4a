"""The HumanEvalPack languages, as one table of plain data that every other module reads.

A language is added here, in an executor module ``executors/languages/<name>.py`` and in the mini dataset
(``data/mini_build.py``); tasks, task YAMLs, reports, doctor and setup follow from this table.

Values follow the reference harness (bigcode-evaluation-harness ``humanevalpack.py``): the display name is the one
used inside instruction texts (and as the report's column label), the task prefix is the one in ``task_id``
(``CPP/0``), the stop words are the reference ``LANGUAGE_TO_STOP_WORDS`` lists (before any template extras are
appended), and the run timeout is the reference ``LANGUAGE_TO_TIMEOUT``.

This module imports nothing from the project: both ``lm_eval_octopack`` and ``lm_eval_octopack.executors`` import it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LanguageFacts:
    name: str  # our key: task suffix (``humanevalfix-js``), data file (``js.jsonl``), executor module
    display_name: str  # in instruction texts and report columns
    task_prefix: str  # ``task_id`` prefix in the dataset
    file_extension: str
    stop_words: tuple[str, ...]
    metric_name: str  # the reference's code_eval metric name
    run_timeout: float  # seconds, the reference's per-language timeout


_TABLE: tuple[LanguageFacts, ...] = (
    LanguageFacts(
        name="python",
        display_name="Python",
        task_prefix="Python",
        file_extension="py",
        stop_words=("\nclass", "\ndef", "\n#", "\n@", "\nprint", "\nif", "\nassert"),
        metric_name="python",
        run_timeout=10.0,
    ),
    LanguageFacts("js", "JavaScript", "JavaScript", "js", (), "javascript", 10.0),
    LanguageFacts("java", "Java", "Java", "java", (), "java", 10.0),
    # "struct" has no leading newline in the reference; kept as is (it also cuts `map[int]struct{}`).
    LanguageFacts("go", "Go", "Go", "go", ("\n//", "\nfunc main(", "struct", "\nfunc"), "go", 20.0),
    LanguageFacts("cpp", "C++", "CPP", "cpp", (), "cpp", 60.0),
    LanguageFacts("rust", "Rust", "Rust", "rs", (), "rust", 300.0),
)

#: Every language by name, in the reference's (and the report's) column order.
FACTS: dict[str, LanguageFacts] = {facts.name: facts for facts in _TABLE}
LANGUAGES: tuple[str, ...] = tuple(FACTS)


def language_facts(name: str) -> LanguageFacts:
    """The :class:`LanguageFacts` for ``name`` (one of :data:`LANGUAGES`); ValueError naming the known ones."""
    try:
        return FACTS[name]
    except KeyError:
        raise ValueError(f"Unknown HumanEvalPack language {name!r}; known languages: {', '.join(LANGUAGES)}") from None
