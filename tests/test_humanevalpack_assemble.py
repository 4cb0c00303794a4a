"""Program assembly (spec §7.1): hand-written quirk checks plus a differential test against the reference.

How ``tests/golden/assemble.json`` was produced (throwaway script outside the repo, never committed): the reference
bigcode-evaluation-harness ``bigcode_eval/tasks/humanevalpack.py`` (main @ 8fc5bae6) was loaded with its dataset set
to the local ``humanevalpack/{lang}.jsonl`` rows and its ``code_eval_octopack`` metric replaced by a stub that
records the ``predictions``/``references`` that ``process_results`` hands to it. For every problem it assembled three
samples, in this order: ``prompt + canonical_solution``, the reference's own fixtests post-processing of the
continuation ``"\\n" + canonical_solution``, and ``prompt + buggy_solution``. Stored: per problem, sha256 of the three
programs (``candidate + "\\n" + reference``) joined by NUL; per language, sha256 of the concatenated per-problem
sha256 hex digests of the three final codes (checks our inputs). The reference writes several auto-added Go imports in
``set`` order (hash-seed dependent); for the digests its ``set`` was replaced by an insertion-ordered one, which is the
deterministic order we emit.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from lm_eval_octopack.humanevalpack.assemble import (
    CPP_IMPORT_HELPER,
    PYTHON_IMPORT_HELPER,
    assemble_candidates,
    assemble_programs,
)
from lm_eval_octopack.humanevalpack.postprocess import final_code
from lm_eval_octopack.language_facts import LANGUAGES

GOLDEN = Path(__file__).parent / "golden" / "assemble.json"

GO_DOC = {
    "test": "func TestAdd(t *testing.T) {\n    assert := assert.New(t)\n    assert.Equal(2, Add(1, 1))\n}\n",
    "test_setup": 'package main\n\nimport (\n    "math"\n    "testing"\n    "github.com/stretchr/testify/assert"\n)\n',
}


def test_every_program_ends_with_two_newlines_and_the_tests() -> None:
    doc = {"test": "check(f)", "declaration": "fn f() {", "test_setup": "package main\n"}
    for language in LANGUAGES:
        (program,) = assemble_programs(doc, language, ["code"])
        assert program.endswith("\n\ncheck(f)"), language


def test_python_gets_the_import_helper_and_is_stripped() -> None:
    (candidate,) = assemble_candidates({"test": ""}, "python", ["def f():\n    return 1\n\n"])
    assert candidate == "\n".join(PYTHON_IMPORT_HELPER) + "\ndef f():\n    return 1"
    assert PYTHON_IMPORT_HELPER[11:13] == ("import numpy", "import numpy as np")


def test_cpp_gets_the_helper_and_loses_everything_from_the_first_int_main() -> None:
    code = "int f(){return 1;}\n// int main is cut even in a comment\nint main(){}"
    (candidate,) = assemble_candidates({"test": ""}, "cpp", [code])
    assert candidate == "\n".join(CPP_IMPORT_HELPER) + "\nint f(){return 1;}\n//"
    assert CPP_IMPORT_HELPER[0] == "using namespace std;"


def test_java_drops_only_the_exact_empty_main_class() -> None:
    code = "class Solution {\n}\npublic class Main {\n    }\n"
    (candidate,) = assemble_candidates({"test": ""}, "java", [code])
    assert candidate == "class Solution {\n}"
    (untouched,) = assemble_candidates({"test": ""}, "java", ["public class Main {\n}"])
    assert untouched == "public class Main {\n}"


def test_js_adds_nothing() -> None:
    assert assemble_candidates({"test": ""}, "js", ["  const f = () => 1;\n"]) == ["  const f = () => 1;\n"]


def test_go_test_setup_mutation_carries_over_to_later_samples() -> None:
    imports_math = 'import (\n    "math"\n)\nfunc Add(a, b int) int {\n    return int(math.Abs(float64(a + b)))\n}'
    plain = "func Add(a, b int) int {\n    return a + b\n}"
    first, second = assemble_candidates(GO_DOC, "go", [imports_math, plain])
    setup_without_math = GO_DOC["test_setup"].replace('"math"', "") + "\n"
    assert first == setup_without_math + imports_math
    # The reference removed "math" from the shared test_setup for sample 0; sample 1 never gets it back.
    assert second == setup_without_math + plain
    (alone,) = assemble_candidates(GO_DOC, "go", [plain])
    assert alone == GO_DOC["test_setup"] + "\n" + plain


def test_go_adds_used_packages_by_last_segment_and_ignores_comment_lines() -> None:
    code = (
        "// strings.Fields is only mentioned here\n"
        "func Add(a, b int) int {\n    _ = rand.Intn(3)\n    return len(strconv.Itoa(a)) + b\n}"
    )
    (candidate,) = assemble_candidates(GO_DOC, "go", [code])
    extra = 'import (\n    "strconv"\n    "rand"\n)\n'  # helper-list order; "rand" is the reference's wrong path
    assert candidate == GO_DOC["test_setup"] + "\n" + extra + code


def test_go_drops_the_models_package_line_when_test_setup_has_one() -> None:
    (candidate,) = assemble_candidates(GO_DOC, "go", ["package main\nfunc Add(a, b int) int { return a + b }"])
    assert candidate == GO_DOC["test_setup"] + "\n" + "\nfunc Add(a, b int) int { return a + b }"


def test_rust_adds_main_and_missing_declaration_lines() -> None:
    doc = {"test": "", "declaration": "\nuse std::cmp::max;\nfn add(a: i32, b: i32) -> i32{\n"}
    body = "fn add(x: i32, y: i32) -> i32{\n    x + y\n}"
    (candidate,) = assemble_candidates(doc, "rust", [body])
    assert candidate == "fn main(){}\nuse std::cmp::max;\n" + body  # `fn add` is present, so its line is skipped
    with_main = "fn main(){}\nuse std::cmp::max;\nfn add(a: i32, b: i32) -> i32{\n    a + b\n}\nfn main() { junk }"
    (candidate,) = assemble_candidates(doc, "rust", [with_main])
    assert candidate == "fn main(){}\nuse std::cmp::max;\nfn add(a: i32, b: i32) -> i32{\n    a + b\n}\n"


def test_unknown_language_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="known languages: python, js, java, go, cpp, rust"):
        assemble_programs({"test": ""}, "kotlin", ["x"])


def _rows(directory: Path, language: str) -> list[dict]:
    with open(directory / f"{language}.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def _sha(strings: list[str]) -> str:
    return hashlib.sha256("\0".join(strings).encode("utf-8")).hexdigest()


@pytest.mark.slow
@pytest.mark.parametrize("language", LANGUAGES)
def test_assembled_programs_match_the_reference_harness(humanevalpack_dir: Path, language: str) -> None:
    golden = json.loads(GOLDEN.read_text())[language]
    final_digests, mismatched = [], []
    for index, doc in enumerate(_rows(humanevalpack_dir, language)):
        finals = [
            doc["prompt"] + doc["canonical_solution"],
            final_code(doc, "fixtests", language, "\n" + doc["canonical_solution"]),
            doc["prompt"] + doc["buggy_solution"],
        ]
        final_digests.append(_sha(finals))
        if _sha(assemble_programs(doc, language, finals)) != golden["programs_sha256"][index]:
            mismatched.append(doc["task_id"])
    assert hashlib.sha256("".join(final_digests).encode()).hexdigest() == golden["final_codes_sha256"]
    assert mismatched == []
