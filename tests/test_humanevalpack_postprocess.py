"""Post-processing (spec §4, §6): hand-written quirk checks, real-data checks, and reference digests.

How ``tests/golden/postprocess.json`` was produced (throwaway script outside the repo, never committed): the reference
bigcode-evaluation-harness ``bigcode_eval/tasks/humanevalpack.py`` (main @ 8fc5bae6) was loaded with its dataset set
to the local ``humanevalpack/{lang}.jsonl`` rows, and its own ``postprocess_generation(prompt + continuation, idx)``
was run (stop-word lists reset before each task):

* ``final_code[lang|scenario|template]``: for every problem the three continuations of :func:`_continuations`;
  sha256 of all 164x3 final codes joined by NUL (explainsynthesize with the fixed description of prompts.json);
* ``describe[lang|template]``: explaindescribe post-processing of :func:`_describe_continuations`, same digest;
* ``diff_programs[lang]``: fixtests with the ``diff`` template, continuations ``"\\n" + patch`` (a diff-match-patch
  patch from buggy to canonical, made with ``patch_toText(patch_make(...))``) and ``"@@ nonsense"``, through the
  reference ``process_results`` (patch application + assembly, metric stubbed); sha256 of all programs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from lm_eval_octopack.humanevalpack.assemble import assemble_programs
from lm_eval_octopack.humanevalpack.postprocess import final_code, postprocess_description, remove_last_block
from lm_eval_octopack.humanevalpack.prompts import prompt_base
from lm_eval_octopack.language_facts import LANGUAGES

GOLDEN = json.loads((Path(__file__).parent / "golden" / "postprocess.json").read_text())
DESCRIPTION = json.loads((Path(__file__).parent / "golden" / "prompts.json").read_text())["description"]

# (language, task number) whose canonical body remove_last_block changes (spec §10).
CHANGED_BY_REMOVE_LAST_BLOCK = {("go", 72), ("go", 90), ("go", 158), ("cpp", 94), ("rust", 137), ("rust", 145)}


def _rows(directory: Path, language: str) -> list[dict]:
    with open(directory / f"{language}.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def _sha(strings: list[str]) -> str:
    return hashlib.sha256("\0".join(strings).encode("utf-8")).hexdigest()


def _continuations(doc: dict) -> list[str]:
    return [
        "\n" + doc["canonical_solution"],
        "\n" + doc["buggy_solution"],
        "\n" + doc["canonical_solution"] + "\n" + doc["test"],
    ]


def _describe_continuations(doc: dict) -> list[str]:
    return [
        " " + doc["docstring"] + "\n" + doc["canonical_solution"],
        "\n" + doc["canonical_solution"] + doc["docstring"],
    ]


# --- remove_last_block, by hand -------------------------------------------------------------------------------------


def test_python_keeps_lines_before_the_first_unindented_line() -> None:
    code = "\n    x = 1\n\n    return x\nfoo()\n    more"
    assert remove_last_block(code, "python") == "\n    x = 1\n\n    return x"
    assert remove_last_block("\n\treturn 1\n  \n", "python") == "\n\treturn 1\n  \n"  # no such line: unchanged


def test_python_stop_words_cut_first() -> None:
    assert remove_last_block("\n    return 1\n    # done\n\ndef g():", "python") == "\n    return 1\n    # done\n"
    assert remove_last_block("\n    return 1<|endoftext|>junk", "python") == "\n    return 1"


def test_go_struct_stop_word_has_no_newline() -> None:
    code = "\n    seen := map[int]struct{}{}\n    return len(seen)\n}"
    assert remove_last_block(code, "go") == "\n    seen := map[int]"
    assert remove_last_block("\n    return 1\n}\nfunc helper() {}", "go") == "\n    return 1\n}"
    assert remove_last_block("\n    return 1\n// comment\n}", "go") == "\n    return 1"


def test_brace_counting_starts_at_one_and_cuts_at_zero() -> None:
    code = "\n    if (a) { return 1; }\n    return 2;\n}\nfunction g() { }"
    assert remove_last_block(code, "js") == "\n    if (a) { return 1; }\n    return 2;\n}"
    assert remove_last_block('\n  let s = "}";\n  return s;\n}', "js") == '\n  let s = "}'  # braces in strings count
    assert remove_last_block("\n    return 1;\n  }\n  x", "cpp") == "\n    return 1;\n  }"


def test_brace_languages_without_a_closing_brace_cut_after_the_last_one() -> None:
    assert remove_last_block("\n  if (a) { b(); }\n  c();", "rust") == "\n  if (a) { b(); }"
    assert remove_last_block("\n  return 1;", "cpp") == "\n  return 1;"


def test_java_counts_from_two() -> None:
    code = "\n        return 1;\n    }\n}\nclass Other {}"
    assert remove_last_block(code, "java") == "\n        return 1;\n    }\n}"


def test_java_main_method_is_cut_and_the_class_closed() -> None:
    code = "\n        return 1;\n    }\n    public static void main(String[] args) {\n        f();\n"
    assert remove_last_block(code, "java") == "\n        return 1;\n    }\n    }"
    assert remove_last_block("\n        return 1;\n    }\n", "java") == "\n        return 1;\n    }"
    # count('{') - 1 == count('}') appends the class brace
    unclosed = "\n        if (a) {\n            if (b) {\n                f();\n            }"
    assert remove_last_block(unclosed, "java") == unclosed + "\n}"


def test_explicit_stop_words_replace_the_defaults() -> None:
    assert remove_last_block("\n    return 1\n#x", "python", ["<|end|>"]) == "\n    return 1"
    assert remove_last_block("\n    a<|end|>\n    b", "python", ["<|end|>"]) == "\n    a"


# --- final_code and program assembly, by hand --------------------------------------------------------------------


RUST_DOC = {
    "prompt": "fn main(){}\n\nuse std::cmp::max;\n/* Add */\nfn add(a: i32, b: i32) -> i32{\n",
    "declaration": "\nuse std::cmp::max;\nfn add(a: i32, b: i32) -> i32{\n",
    "buggy_solution": "    a - b\n}\n",
    "test": "#[cfg(test)]\nmod tests {}\n",
}


def test_rust_final_code_and_program() -> None:
    code = final_code(RUST_DOC, "fixtests", "rust", "\n    a + b\n}\n\nfn extra() {}\n")
    assert code == "fn main(){}\n\nuse std::cmp::max;\nfn add(a: i32, b: i32) -> i32{\n    a + b\n}"
    (program,) = assemble_programs(RUST_DOC, "rust", [code])
    assert program == code + "\n\n" + RUST_DOC["test"]  # main and declaration are already there: nothing added
    synthesized = final_code(RUST_DOC, "synthesize", "rust", "\n    a + b\n}")
    assert synthesized == RUST_DOC["prompt"].rstrip() + "\n    a + b\n}"


def test_explainsynthesize_final_code_uses_the_docstring_prompt() -> None:
    code = final_code(RUST_DOC, "explainsynthesize", "rust", "\n    a + b\n}")
    assert code.startswith(RUST_DOC["prompt"].rstrip())
    assert prompt_base(RUST_DOC, "explainsynthesize", "rust").startswith("fn main(){}\n\nuse")


def test_cpp_program_drops_a_generated_main() -> None:
    doc = {"prompt": "int f(){\n", "declaration": "int f(){\n", "test": "int main(){assert(f()==1);}"}
    code = final_code(doc, "synthesize", "cpp", "\n    return 1;\n}\nint main(){ return 0; }")
    assert code == "int f(){\n    return 1;\n}"
    (program,) = assemble_programs(doc, "cpp", [code + "\nint main(){}"])
    assert program.endswith("int f(){\n    return 1;\n}\n\nint main(){assert(f()==1);}")


def test_js_final_code_gets_nothing_added() -> None:
    doc = {"prompt": "const f = () => {\n", "declaration": "const f = () => {\n", "test": "console.assert(f());"}
    code = final_code(doc, "synthesize", "js", "\n  return 1;\n}\nconsole.log(f())")
    assert assemble_programs(doc, "js", [code]) == ["const f = () => {\n  return 1;\n}\n\nconsole.assert(f());"]


def test_diff_carper_and_describe_are_refused_clearly() -> None:
    with pytest.raises(NotImplementedError, match="diff-carper"):
        final_code(RUST_DOC, "fixtests", "rust", "x", template="diff-carper")
    with pytest.raises(ValueError, match="postprocess_description"):
        final_code(RUST_DOC, "explaindescribe", "rust", "x")
    with pytest.raises(ValueError, match="not valid"):
        final_code(RUST_DOC, "synthesize", "rust", "x", template="diff")


# --- describe post-processing, by hand ----------------------------------------------------------------------------


def test_description_is_cut_to_docstring_length_before_stop_words() -> None:
    doc = {"docstring": "x" * 12, "canonical_solution": ""}
    # "\nif" starts at 13: after the hard cut to 12 characters it is gone, so the stop word never fires
    assert postprocess_description(doc, "python", "  Adds numbers\nif x > 1") == "Adds numbers"
    assert postprocess_description(doc, "python", "Adds\nif x  ") == "Adds"
    assert postprocess_description(doc, "go", "A struct map") == "A"


def test_description_removes_quoted_canonical_lines_longer_than_20_characters() -> None:
    doc = {"docstring": "d" * 200, "canonical_solution": "    return sorted(set(numbers))\n    return x\n"}
    text = "It does return sorted(set(numbers)) and return x"
    assert postprocess_description(doc, "js", text) == "It does  and return x"


def test_description_removes_code_after_the_rstrip() -> None:
    doc = {"docstring": "d" * 60, "canonical_solution": "    total = sum(values) / count\n"}
    assert postprocess_description(doc, "js", "Mean: total = sum(values) / count   ") == "Mean: "


# --- real data (spec §10) ------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("language", LANGUAGES)
def test_remove_last_block_keeps_canonical_bodies(humanevalpack_dir: Path, language: str) -> None:
    changed = set()
    for index, doc in enumerate(_rows(humanevalpack_dir, language)):
        continuation = "\n" + doc["canonical_solution"]
        if remove_last_block(continuation.rstrip(), language) != continuation.rstrip():
            changed.add((language, index))
        for scenario in ("fixdocs", "synthesize"):
            code = final_code(doc, scenario, language, continuation)
            base = prompt_base(doc, scenario, language)
            if (language, index) not in CHANGED_BY_REMOVE_LAST_BLOCK:
                assert code == base.rstrip() + continuation.rstrip(), doc["task_id"]
    assert changed == {item for item in CHANGED_BY_REMOVE_LAST_BLOCK if item[0] == language}


@pytest.mark.slow
@pytest.mark.parametrize("language", LANGUAGES)
def test_final_code_and_descriptions_match_the_reference(humanevalpack_dir: Path, language: str) -> None:
    rows = _rows(humanevalpack_dir, language)
    for key, expected in sorted(GOLDEN["final_code"].items()):
        lang, scenario, template = key.split("|")
        if lang != language:
            continue
        finals = [
            final_code(dict(doc, description=DESCRIPTION), scenario, language, text, template)
            for doc in rows
            for text in _continuations(doc)
        ]
        assert _sha(finals) == expected, key
    for template in ("instruct", "starchat"):
        descriptions = [
            postprocess_description(doc, language, text, template)
            for doc in rows
            for text in _describe_continuations(doc)
        ]
        assert _sha(descriptions) == GOLDEN["describe"][f"{language}|{template}"], template


@pytest.mark.slow
@pytest.mark.parametrize("language", LANGUAGES)
def test_diff_template_programs_match_the_reference(humanevalpack_dir: Path, language: str) -> None:
    diff_match_patch = pytest.importorskip("diff_match_patch").diff_match_patch
    dmp = diff_match_patch()
    programs = []
    for doc in _rows(humanevalpack_dir, language):
        base = prompt_base(doc, "fixtests", language)
        patch = dmp.patch_toText(dmp.patch_make(base + doc["buggy_solution"], base + doc["canonical_solution"]))
        codes = [final_code(doc, "fixtests", language, text, "diff") for text in ("\n" + patch, "@@ nonsense")]
        # The Python line rule cuts every diff at its first "@@" line, so Python diffs never apply (reference quirk).
        assert codes[1] == (base + doc["buggy_solution"] if language == "python" else "")
        programs += assemble_programs(doc, language, codes)
    assert _sha(programs) == GOLDEN["diff_programs"][language]
