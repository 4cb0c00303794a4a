"""The six HumanEvalPack languages and the five scenarios, as plain data.

Values follow the reference harness (bigcode-evaluation-harness ``humanevalpack.py``): the display name is the one
used inside instruction texts, the task prefix is the one in ``task_id`` (``CPP/0``), and the stop words are the
reference ``LANGUAGE_TO_STOP_WORDS`` lists (before any template extras are appended).
"""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES: tuple[str, ...] = ("python", "js", "java", "go", "cpp", "rust")
SCENARIOS: tuple[str, ...] = ("fixtests", "fixdocs", "explaindescribe", "explainsynthesize", "synthesize")


@dataclass(frozen=True)
class Language:
    name: str
    display_name: str
    task_prefix: str
    file_extension: str
    stop_words: tuple[str, ...]
    metric_name: str


_LANGUAGE_TABLE: dict[str, Language] = {
    "python": Language(
        name="python",
        display_name="Python",
        task_prefix="Python",
        file_extension="py",
        stop_words=("\nclass", "\ndef", "\n#", "\n@", "\nprint", "\nif", "\nassert"),
        metric_name="python",
    ),
    "js": Language("js", "JavaScript", "JavaScript", "js", (), "javascript"),
    "java": Language("java", "Java", "Java", "java", (), "java"),
    # "struct" has no leading newline in the reference; kept as is (it also cuts `map[int]struct{}`).
    "go": Language("go", "Go", "Go", "go", ("\n//", "\nfunc main(", "struct", "\nfunc"), "go"),
    "cpp": Language("cpp", "C++", "CPP", "cpp", (), "cpp"),
    "rust": Language("rust", "Rust", "Rust", "rs", (), "rust"),
}


def get_language(name: str) -> Language:
    """The :class:`Language` for ``name`` (one of :data:`LANGUAGES`)."""
    try:
        return _LANGUAGE_TABLE[name]
    except KeyError:
        raise ValueError(f"Unknown HumanEvalPack language {name!r}; known languages: {', '.join(LANGUAGES)}") from None


def check_scenario(scenario: str) -> str:
    """Return ``scenario`` unchanged, or raise ``ValueError`` naming the known scenarios."""
    if scenario not in SCENARIOS:
        raise ValueError(f"Unknown HumanEvalPack scenario {scenario!r}; known scenarios: {', '.join(SCENARIOS)}")
    return scenario
