"""Prompts, templates and stop words, checked byte for byte against the reference harness.

How ``tests/golden/prompts.json`` was produced (throwaway script outside the repo, never committed): the reference
bigcode-evaluation-harness ``bigcode_eval/tasks/humanevalpack.py`` (main @ 8fc5bae6) was loaded with its dataset set
to the local ``humanevalpack/{lang}.jsonl`` rows. For Python/0, Java/0 and Rust/0, every scenario and every
``--prompt`` value, the task's own ``get_prompt`` was called (explainsynthesize with a descriptions file holding the
fixed ``description`` string stored in the JSON). Stored: sha256 and length of each prompt, the combinations the
reference rejects (``invalid``), ``get_prompt_encoder`` digests for instructcodet5p, and the task's ``stop_words``
for Python (the reference's mutated global lists were reset before each task). No dataset text is stored.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from lm_eval_octopack.catalogue import SCENARIOS
from lm_eval_octopack.humanevalpack.prompts import (
    TEMPLATES,
    build_encoder_prompt,
    build_prompt,
    chat_messages,
    prompt_base,
    stop_words,
    templates_for,
)
from lm_eval_octopack.language_facts import LANGUAGES, language_facts

GOLDEN = json.loads((Path(__file__).parent / "golden" / "prompts.json").read_text())
GOLDEN_LANGUAGES = ("python", "java", "rust")


def _first_row(directory: Path, language: str) -> dict:
    with open(directory / f"{language}.jsonl", encoding="utf-8") as handle:
        return json.loads(handle.readline())


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _golden_cases() -> list[tuple[str, str, str]]:
    return [tuple(key.split("|")) for key in sorted(GOLDEN["prompts"])]


@pytest.mark.parametrize(("language", "scenario", "template"), _golden_cases())
def test_prompt_matches_reference_digest(humanevalpack_dir: Path, language: str, scenario: str, template: str) -> None:
    doc = _first_row(humanevalpack_dir, language)
    expected = GOLDEN["prompts"][f"{language}|{scenario}|{template}"]
    prompt = build_prompt(doc, scenario, language, template, description=GOLDEN["description"])
    assert (len(prompt), _sha(prompt)) == (expected["length"], expected["sha256"])
    if "encoder_sha256" in expected:
        encoder = build_encoder_prompt(doc, scenario, language, template, description=GOLDEN["description"])
        assert _sha(encoder) == expected["encoder_sha256"]


def test_golden_covers_every_scenario_template_pair() -> None:
    covered = {(key.split("|")[1], key.split("|")[2]) for key in GOLDEN["prompts"]}
    assert covered == {(scenario, template) for scenario in SCENARIOS for template in templates_for(scenario)}
    assert {key.split("|")[0] for key in GOLDEN["prompts"]} == set(GOLDEN_LANGUAGES)


@pytest.mark.parametrize("key", sorted(GOLDEN["invalid"]))
def test_combinations_the_reference_rejects_raise_value_error(key: str) -> None:
    language, scenario, template = key.split("|")
    doc = {"prompt": "", "declaration": "", "buggy_solution": "", "test": "", "entry_point": "f", "docstring": ""}
    with pytest.raises(ValueError, match=f"not valid for HumanEvalPack scenario '{scenario}'"):
        build_prompt(doc, scenario, language, template, description="d")


def test_unknown_template_scenario_and_language_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="'prompt' \\(unknown\\).*valid templates: instruct"):
        stop_words("python", "fixtests", "prompt")
    with pytest.raises(ValueError, match="known scenarios: fixtests, fixdocs"):
        templates_for("fix")
    with pytest.raises(ValueError, match="known languages"):
        language_facts("javascript")


@pytest.mark.parametrize("key", sorted(GOLDEN["stop_words"]))
def test_stop_words_match_the_reference_task(key: str) -> None:
    scenario, template = key.split("|")
    assert stop_words("python", scenario, template) == GOLDEN["stop_words"][key]


def test_stop_words_for_other_languages() -> None:
    assert stop_words("go", "synthesize", "instruct") == ["\n//", "\nfunc main(", "struct", "\nfunc", "<|endoftext|>"]
    assert stop_words("rust", "fixtests", "starchat") == ["<|end|>", "<|endoftext|>"]
    assert stop_words("java", "fixdocs", "issue") == ["```", "<|endoftext|>"]
    assert stop_words("go", "fixtests", "diff") == [
        "<commit_before>",
        "<commit_msg>",
        "<commit_after>",
        "<|endoftext|>",
    ]


def test_template_table_is_complete() -> None:
    assert len(TEMPLATES) == 23
    assert templates_for("synthesize")[0] == "continue"
    assert "issue" in templates_for("fixdocs") and "issue" not in templates_for("explaindescribe")


def test_language_table() -> None:
    assert [language_facts(name).display_name for name in LANGUAGES] == [
        "Python",
        "JavaScript",
        "Java",
        "Go",
        "C++",
        "Rust",
    ]
    assert [language_facts(name).task_prefix for name in LANGUAGES] == [
        "Python",
        "JavaScript",
        "Java",
        "Go",
        "CPP",
        "Rust",
    ]
    assert [language_facts(name).file_extension for name in LANGUAGES] == ["py", "js", "java", "go", "cpp", "rs"]
    assert language_facts("js").metric_name == "javascript"


def test_readable_structure_of_real_prompts(humanevalpack_dir: Path) -> None:
    python = _first_row(humanevalpack_dir, "python")
    assert build_prompt(python, "fixtests", "python", "octocoder").startswith(
        "Question: Fix bugs in has_close_elements.\nfrom typing import List\n"
    )
    assert build_prompt(python, "fixtests", "python", "octocoder").endswith(
        "\n\nAnswer:\nfrom typing import List\n\n\ndef has_close_elements(numbers: List[float], threshold: float) -> bool:"
    )
    describe = build_prompt(python, "explaindescribe", "python", "octocoder")
    assert describe.startswith("Question: Provide a concise natural language description of the code using at most 213")
    assert describe.endswith("return False\n\n\nAnswer:")
    assert build_prompt(python, "synthesize", "python", "continue") == python["prompt"].strip()
    instruct = build_prompt(python, "explainsynthesize", "python", description="Sums things.")
    assert instruct.startswith("Sums things.\nWrite functional code in Python according to the description.\n\n")
    rust = _first_row(humanevalpack_dir, "rust")
    assert prompt_base(rust, "fixtests", "rust") == "fn main(){}\n" + rust["declaration"]
    assert prompt_base(rust, "synthesize", "rust") == rust["prompt"]
    assert rust["prompt"].startswith("fn main(){}\n")


def test_chat_messages_split_instruction_and_code_prefix(humanevalpack_dir: Path) -> None:
    python = _first_row(humanevalpack_dir, "python")
    user, prefix = chat_messages(python, "fixtests", "python")
    assert user.endswith("\nFix bugs in has_close_elements.")
    assert prefix == python["declaration"].rstrip()
    user, prefix = chat_messages(python, "explaindescribe", "python")
    assert prefix == "" and user.endswith("using at most 213 characters.")
    user, _ = chat_messages(python, "explainsynthesize", "python", description="Sums things.")
    assert user == "Sums things.\nWrite functional code in Python according to the description."
    with pytest.raises(ValueError, match="description"):
        chat_messages(python, "explainsynthesize", "python")
