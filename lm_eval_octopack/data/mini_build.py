"""Source of the mini HumanEvalPack (``mini/{lang}.jsonl``): 3 problems x 6 languages, written for this project.

Each row has the fields and layout conventions of ``bigcode/humanevalpack`` (prompt vs. declaration, Rust's
``fn main(){}`` prefix, Go's ``import``/``test_setup``, Java's ``class Solution``/``public class Main``, ...), so
the whole pipeline runs on it in seconds. Regenerate after editing: ``python -m lm_eval_octopack.data.mini_build``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from lm_eval_octopack.language_facts import LANGUAGES, language_facts

MINI_DIR = Path(__file__).resolve().parent / "mini"

RUST_USES = (
    "\nuse std::{slice::Iter, cmp::{max, self}, mem::replace, collections::{HashSet, HashMap}, ops::Index, "
    "ascii::AsciiExt};\nuse rand::Rng;\nuse regex::Regex;\nuse md5;\nuse std::any::{Any, TypeId};\n\n"
)
GO_TEST_SETUP = 'package main\n\nimport (\n    "testing"\n    "github.com/stretchr/testify/assert"\n)\n'
CPP_EXTRA_INCLUDES = "#include<algorithm>\n#include<stdlib.h>\n"
JAVA_HEADER = "import java.util.*;\nimport java.lang.*;\n\nclass Solution {\n"

#: Per problem: (docstring first line, bug_type). The bug type is the same in every language, as in the real data.
PROBLEMS = (
    ("Return the sum of the two integers a and b.", "operator misuse"),
    ("Return the largest value in a non-empty list of integers.", "value misuse"),
    ("Return the text with its characters in reverse order, keeping spaces.", "excess logic"),
)


@dataclass(frozen=True)
class Problem:
    """One problem in one language. ``examples``/``checks`` are (call, expected) pairs in the language's syntax."""

    entry_point: str
    signature: str
    examples: tuple[tuple[str, str], ...]
    checks: tuple[tuple[str, str], ...]
    canonical: str
    buggy: str
    imports: str = ""  # Python/C++/Go: the prompt's import lines


PYTHON = (
    Problem(
        "sum_two",
        "sum_two(a: int, b: int) -> int",
        (("sum_two(2, 3)", "5"), ("sum_two(-4, 4)", "0")),
        (("sum_two(2, 3)", "5"), ("sum_two(-4, 4)", "0"), ("sum_two(10, -3)", "7")),
        "    return a + b\n",
        "    return a - b\n",
    ),
    Problem(
        "largest",
        "largest(values: List[int]) -> int",
        (("largest([3, 9, 4])", "9"), ("largest([-5, -2, -7])", "-2")),
        (("largest([3, 9, 4])", "9"), ("largest([-5, -2, -7])", "-2"), ("largest([8])", "8")),
        "    best = values[0]\n    for value in values[1:]:\n        if value > best:\n            best = value\n"
        "    return best\n",
        "    best = 0\n    for value in values:\n        if value > best:\n            best = value\n    return best\n",
        imports="from typing import List\n",
    ),
    Problem(
        "reverse_text",
        "reverse_text(text: str) -> str",
        (("reverse_text('abc')", "'cba'"), ("reverse_text(' hi')", "'ih '")),
        (("reverse_text('abc')", "'cba'"), ("reverse_text(' hi')", "'ih '"), ("reverse_text('')", "''")),
        "    return text[::-1]\n",
        "    return text[::-1].strip()\n",
    ),
)

JS = (
    Problem(
        "sumTwo",
        "const sumTwo = (a, b)",
        (("sumTwo(2, 3)", "5"), ("sumTwo(-4, 4)", "0")),
        (("sumTwo(2, 3)", "5"), ("sumTwo(-4, 4)", "0"), ("sumTwo(10, -3)", "7")),
        "  return a + b;\n}\n\n",
        "  return a - b;\n}\n\n",
    ),
    Problem(
        "largest",
        "const largest = (values)",
        (("largest([3, 9, 4])", "9"), ("largest([-5, -2, -7])", "-2")),
        (("largest([3, 9, 4])", "9"), ("largest([-5, -2, -7])", "-2"), ("largest([8])", "8")),
        "  let best = values[0];\n  for (const value of values) {\n    if (value > best) {\n      best = value;\n"
        "    }\n  }\n  return best;\n}\n\n",
        "  let best = 0;\n  for (const value of values) {\n    if (value > best) {\n      best = value;\n"
        "    }\n  }\n  return best;\n}\n\n",
    ),
    Problem(
        "reverseText",
        "const reverseText = (text)",
        (("reverseText('abc')", "'cba'"), ("reverseText(' hi')", "'ih '")),
        (("reverseText('abc')", "'cba'"), ("reverseText(' hi')", "'ih '"), ("reverseText('')", "''")),
        "  return text.split('').reverse().join('');\n}\n\n",
        "  return text.split('').reverse().join('').trim();\n}\n\n",
    ),
)

JAVA = (
    Problem(
        "sumTwo",
        "public int sumTwo(int a, int b)",
        (("sumTwo(2, 3)", "5"), ("sumTwo(-4, 4)", "0")),
        (("s.sumTwo(2, 3)", "5"), ("s.sumTwo(-4, 4)", "0"), ("s.sumTwo(10, -3)", "7")),
        "        return a + b;\n    }\n}",
        "        return a - b;\n    }\n}",
    ),
    Problem(
        "largest",
        "public int largest(List<Integer> values)",
        (("largest(Arrays.asList(3, 9, 4))", "9"), ("largest(Arrays.asList(-5, -2, -7))", "-2")),
        (
            ("s.largest(new ArrayList<>(Arrays.asList(3, 9, 4)))", "9"),
            ("s.largest(new ArrayList<>(Arrays.asList(-5, -2, -7)))", "-2"),
            ("s.largest(new ArrayList<>(Arrays.asList(8)))", "8"),
        ),
        "        int best = values.get(0);\n        for (int value : values) {\n            if (value > best) {\n"
        "                best = value;\n            }\n        }\n        return best;\n    }\n}",
        "        int best = 0;\n        for (int value : values) {\n            if (value > best) {\n"
        "                best = value;\n            }\n        }\n        return best;\n    }\n}",
    ),
    Problem(
        "reverseText",
        "public String reverseText(String text)",
        (('reverseText("abc")', '"cba"'), ('reverseText(" hi")', '"ih "')),
        (('s.reverseText("abc")', '"cba"'), ('s.reverseText(" hi")', '"ih "'), ('s.reverseText("")', '""')),
        "        return new StringBuilder(text).reverse().toString();\n    }\n}",
        "        return new StringBuilder(text).reverse().toString().trim();\n    }\n}",
    ),
)

GO = (
    Problem(
        "SumTwo",
        "func SumTwo(a int, b int) int",
        (("SumTwo(2, 3)", "5"), ("SumTwo(-4, 4)", "0")),
        (("SumTwo(2, 3)", "5"), ("SumTwo(-4, 4)", "0"), ("SumTwo(10, -3)", "7")),
        "    return a + b\n}\n\n",
        "    return a - b\n}\n\n",
    ),
    Problem(
        "Largest",
        "func Largest(values []int) int",
        (("Largest([]int{3, 9, 4})", "9"), ("Largest([]int{-5, -2, -7})", "-2")),
        (("Largest([]int{3, 9, 4})", "9"), ("Largest([]int{-5, -2, -7})", "-2"), ("Largest([]int{8})", "8")),
        "    best := math.MinInt\n    for _, value := range values {\n        if value > best {\n"
        "            best = value\n        }\n    }\n    return best\n}\n\n",
        "    best := 0\n    for _, value := range values {\n        if value > best {\n"
        "            best = value\n        }\n    }\n    return best\n}\n\n",
        imports='import (\n    "math"\n)\n',
    ),
    Problem(
        "ReverseText",
        "func ReverseText(text string) string",
        (('ReverseText("abc")', '"cba"'), ('ReverseText(" hi")', '"ih "')),
        (('ReverseText("abc")', '"cba"'), ('ReverseText(" hi")', '"ih "'), ('ReverseText("")', '""')),
        "    runes := []rune(text)\n    for i, j := 0, len(runes)-1; i < j; i, j = i+1, j-1 {\n"
        "        runes[i], runes[j] = runes[j], runes[i]\n    }\n    return string(runes)\n}\n\n",
        "    runes := []rune(text)\n    for i, j := 0, len(runes)-1; i < j; i, j = i+1, j-1 {\n"
        "        runes[i], runes[j] = runes[j], runes[i]\n    }\n    return strings.TrimSpace(string(runes))\n}\n\n",
    ),
)

CPP = (
    Problem(
        "sum_two",
        "int sum_two(int a,int b)",
        (("sum_two(2, 3)", "5"), ("sum_two(-4, 4)", "0")),
        (("sum_two(2, 3)", "5"), ("sum_two(-4, 4)", "0"), ("sum_two(10, -3)", "7")),
        "    return a+b;\n}\n",
        "    return a-b;\n}\n",
        imports="#include<stdio.h>\nusing namespace std;\n",
    ),
    Problem(
        "largest",
        "int largest(vector<int> values)",
        (("largest({3, 9, 4})", "9"), ("largest({-5, -2, -7})", "-2")),
        (("largest({3, 9, 4})", "9"), ("largest({-5, -2, -7})", "-2"), ("largest({8})", "8")),
        "    int best=values[0];\n    for (int i=1;i<values.size();i++)\n        if (values[i]>best) best=values[i];\n"
        "    return best;\n}\n",
        "    int best=0;\n    for (int i=0;i<values.size();i++)\n        if (values[i]>best) best=values[i];\n"
        "    return best;\n}\n",
        imports="#include<stdio.h>\n#include<vector>\nusing namespace std;\n",
    ),
    Problem(
        "reverse_text",
        "string reverse_text(string text)",
        (('reverse_text("abc")', '"cba"'), ('reverse_text(" hi")', '"ih "')),
        (('reverse_text("abc")', '"cba"'), ('reverse_text(" hi")', '"ih "'), ('reverse_text("")', '""')),
        "    return string(text.rbegin(),text.rend());\n}\n",
        "    string out(text.rbegin(),text.rend());\n    while (out.length()>0 and out[out.length()-1]==' ')"
        " out.pop_back();\n    return out;\n}\n",
        imports="#include<stdio.h>\n#include<string>\nusing namespace std;\n",
    ),
)

RUST = (
    Problem(
        "sum_two",
        "sum_two(a: i32, b: i32) -> i32",
        (),
        (("sum_two(2, 3)", "5"), ("sum_two(-4, 4)", "0"), ("sum_two(10, -3)", "7")),
        "\n    return a + b;\n}\n",
        "\n    return a - b;\n}\n",
    ),
    Problem(
        "largest",
        "largest(values: Vec<i32>) -> i32",
        (),
        (("largest(vec![3, 9, 4])", "9"), ("largest(vec![-5, -2, -7])", "-2"), ("largest(vec![8])", "8")),
        "\n    return *values.iter().max().unwrap();\n}\n",
        "\n    let mut best = 0;\n    for value in values {\n        if value > best {\n            best = value;\n"
        "        }\n    }\n    return best;\n}\n",
    ),
    Problem(
        "reverse_text",
        "reverse_text(text: String) -> String",
        (),
        (
            ('reverse_text("abc".to_string())', '"cba"'),
            ('reverse_text(" hi".to_string())', '"ih "'),
            ('reverse_text("".to_string())', '""'),
        ),
        "\n    return text.chars().rev().collect();\n}\n",
        "\n    let reversed: String = text.chars().rev().collect();\n    return reversed.trim().to_string();\n}\n",
    ),
)

SOURCES = {"python": PYTHON, "js": JS, "java": JAVA, "go": GO, "cpp": CPP, "rust": RUST}


def build_rows(language: str) -> list[dict]:
    """The mini rows of one language, in task order."""
    return [_row(language, index, problem) for index, problem in enumerate(SOURCES[language])]


def _row(language: str, index: int, problem: Problem) -> dict:
    summary, bug_type = PROBLEMS[index]
    facts = language_facts(language)
    docstring = summary + "".join(f"\n>>> {call}\n{result}" for call, result in problem.examples)
    row = {
        "task_id": f"{facts.task_prefix}/{index}",
        "canonical_solution": problem.canonical,
        "buggy_solution": problem.buggy,
        "bug_type": bug_type,
        "failure_symptoms": "incorrect output",
        "entry_point": problem.entry_point,
        "signature": problem.signature,
        "docstring": docstring,
        "instruction": f"Write a {facts.display_name} function `{problem.signature}` to solve the following "
        f"problem:\n{docstring}",
    }
    row.update(LAYOUTS[language](problem, docstring))
    return row


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else line for line in text.split("\n"))


def _python(problem: Problem, docstring: str) -> dict:
    name = problem.entry_point
    head = problem.imports + "\n\n" if problem.imports else ""
    declaration = f"{head}def {problem.signature}:\n"
    asserts = "".join(f"    assert {call} == {result}\n" for call, result in problem.checks)
    examples = "".join(f"    assert {call} == {result}\n" for call, result in problem.examples)
    return {
        "prompt": ("" if head else "\n\n") + declaration + f'    """ {_indent(docstring, "    ").lstrip()}\n    """\n',
        "declaration": declaration,
        "test": f"\n\n\n\n\ndef check({name}):\n{asserts}\ncheck({name})",
        "example_test": f"def check({name}):\n{examples}check({name})\n",
        "text": _indent(docstring, "    "),
    }


def _js(problem: Problem, docstring: str) -> dict:
    test_name = "test" + problem.entry_point[0].upper() + problem.entry_point[1:]

    def test(pairs: tuple, gap: str) -> str:
        asserts = "".join(f"  console.assert({call} === {result})\n" for call, result in pairs)
        return f"const {test_name} = () => {{\n{asserts}}}\n{gap}{test_name}()\n"

    return {
        "prompt": f"/* {_indent(docstring, '  ').lstrip()}\n  */\n{problem.signature} => {{\n",
        "declaration": f"\n{problem.signature} => {{\n",
        "test": test(problem.checks, "\n"),
        "example_test": test(problem.examples, ""),
    }


def _java(problem: Problem, docstring: str) -> dict:
    def test(pairs: tuple, tail: str) -> str:
        checks = ",\n".join(f"                {_java_check(call, result)}" for call, result in pairs)
        return (
            "public class Main {\n    public static void main(String[] args) {\n        Solution s = new Solution();\n"
            f"        List<Boolean> correct = Arrays.asList(\n{checks}\n        );\n"
            "        if (correct.contains(false)) {\n            throw new AssertionError();\n        }\n    }\n}"
            + tail
        )

    examples = tuple(("s." + call, result) for call, result in problem.examples)
    return {
        "prompt": f"{JAVA_HEADER}    /**\n{_indent(docstring, '    ')}\n     */\n    {problem.signature} {{\n",
        "declaration": f"{JAVA_HEADER}    {problem.signature} {{\n",
        "test": test(problem.checks, ""),
        "example_test": test(examples, "\n"),
        "text": _indent(docstring, "    "),
    }


def _java_check(call: str, result: str) -> str:
    return f"Objects.equals({call}, {result})" if result.startswith('"') else f"{call} == {result}"


def _go(problem: Problem, docstring: str) -> dict:
    def test(pairs: tuple) -> str:
        asserts = "".join(f"    assert.Equal({result}, {call})\n" for call, result in pairs)
        return f"func Test{problem.entry_point}(t *testing.T) {{\n    assert := assert.New(t)\n{asserts}}}\n"

    comments = _indent(docstring, "// ").replace("\n// \n", "\n//\n")
    return {
        "prompt": (problem.imports or "") + f"\n{comments}\n{problem.signature} {{\n",
        "import": problem.imports,
        "declaration": f"\n{problem.signature} {{\n",
        "test": test(problem.checks),
        "test_setup": GO_TEST_SETUP,
        "example_test": test(problem.examples),
    }


def _cpp(problem: Problem, docstring: str) -> dict:
    def test(pairs: tuple) -> str:
        asserts = "".join(f"    assert ({call} == {result});\n" for call, result in pairs)
        return f"#undef NDEBUG\n#include<assert.h>\nint main(){{\n{asserts}}}\n"

    return {
        "prompt": f"/*\n{docstring}\n*/\n{problem.imports}{problem.signature}{{\n",
        "declaration": f"{problem.imports}#include<math.h>\n{CPP_EXTRA_INCLUDES}{problem.signature}{{\n",
        "test": test(problem.checks),
        "example_test": test(problem.examples),
    }


def _rust(problem: Problem, docstring: str) -> dict:
    asserts = "".join(f"        assert_eq!({call}, {result});\n" for call, result in problem.checks)
    function = f"fn {problem.signature}{{\n"
    return {
        "prompt": f"fn main(){{}}\n{RUST_USES}/*\n {docstring}\n    \n*/\n{function}",
        "declaration": RUST_USES + function,
        "test": f"\n#[cfg(test)]\nmod tests {{\n    use super::*;\n\n    #[test]\n    fn test_{problem.entry_point}() {{\n"
        f"{asserts}    }}\n\n}}\n",
        "example_test": "None",
    }


LAYOUTS = {"python": _python, "js": _js, "java": _java, "go": _go, "cpp": _cpp, "rust": _rust}


def render(language: str) -> str:
    """The exact text of ``mini/{language}.jsonl``."""
    return "".join(json.dumps(row) + "\n" for row in build_rows(language))


def main() -> None:
    MINI_DIR.mkdir(exist_ok=True)
    for language in LANGUAGES:
        (MINI_DIR / f"{language}.jsonl").write_text(render(language), encoding="utf-8")


if __name__ == "__main__":
    main()
