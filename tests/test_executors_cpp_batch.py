"""C++ batches compiled as ONE translation unit (``cpp_merged``) must decide every program as compiling it alone does.

The unit tests pin the lexer, which programs may join a merged unit (above all: no program whose namespace-scope
names could hide what the helper headers declare, the CPP/23 ``strlen`` trap), the rewrite of ``main`` and how
compiler output is pinned on programs. The integration tests run programs that stress the merge in ONE batch,
and all 328 real HumanEvalPack programs, and compare each verdict with the single path's.
"""

from __future__ import annotations

import json
import struct

import pytest
from lm_eval_octopack.executors.languages.cpp import HELPER_HEADERS, _header_names, _mergeable_groups, _pch_header
from lm_eval_octopack.executors.registry import get_language
from lm_eval_octopack.executors.runtime.compiled import find_tool
from lm_eval_octopack.executors.runtime.merged import cpp as cpp_merged
from lm_eval_octopack.executors.runtime.merged.cpp import NotMergeable, analyze
from lm_eval_octopack.executors.types import Limits, Program
from test_executors_languages import QUICK, cache_dir, execute_in_chunks, workdir  # noqa: F401 (fixtures)

HELPERS = "using namespace std;\n" + "".join(f"#include<{name}>\n" for name in HELPER_HEADERS)
TEST_HEAD = "#undef NDEBUG\n#include<assert.h>\n"
# A stand-in for what the headers declare (probed at prepare time; see the test of the real probe below).
HEADER_NAMES = cpp_merged.HeaderNames(
    visible=frozenset({"strlen", "count", "max", "swap", "size_t"}), macros=frozenset({"errno", "__BEGIN_DECLS"})
)


def cpp_program(code: str, main_body: str = "assert(1 + 1 == 2);") -> str:
    """A program shaped like HumanEvalPack's: helper includes, the code, then the test's main."""
    return f"{HELPERS}{code}\n{TEST_HEAD}int main(){{\n    {main_body}\n}}\n"


def why_alone(source: str, names: cpp_merged.HeaderNames = HEADER_NAMES) -> str | None:
    try:
        analyze(source, names, HELPER_HEADERS)
    except NotMergeable as reason:
        return str(reason)
    return None


# ------------------------------------------------------------------------------------------------ lexer


def test_lexer_skips_comments_strings_and_char_literals_and_tracks_brace_depth():
    source = (
        "// { not a brace\n/* } nor this */ int f() { const char* s = \"}{\"; char c = '{';\n"
        '  auto r = R"x(})\\n" )x"; return 1; }\n#include <vector>\n'
    )
    lexed = cpp_merged.lex(source)
    texts = [t.text for t in lexed.tokens]
    assert texts[:5] == ["int", "f", "(", ")", "{"]
    assert '"}{"' in texts and "'{'" in texts and 'R"x(})\\n" )x"' in texts
    assert [t.depth for t in lexed.tokens if t.text in "{}"] == [0, 0]
    assert [t.depth for t in lexed.tokens if t.text == "return"] == [1]
    assert [(d.line, d.text) for d in lexed.directives] == [(4, "#include <vector>")]
    assert lexed.tokens[texts.index("return")].line == 3


@pytest.mark.parametrize(
    "source",
    [
        "int f() { return 1;\n",
        "int f() { return (1; }\n",
        "/* open\n",
        'char* s = "open;\n',
        "int a = 1; \\\n",
        "int x = 1 \x3f\x3f/\n2;\n",
        "int ü = 1;\n",
        "int f()\r{ }\n",
    ],
)
def test_lexer_refuses_what_it_cannot_map_line_for_line(source: str):
    with pytest.raises(NotMergeable):
        cpp_merged.lex(source)


# ------------------------------------------------------------------------------------------ eligibility


def test_a_plain_humanevalpack_shaped_program_is_mergeable():
    code = (
        "typedef long long ll;\nusing vi = vector<int>;\nconst double PI = 3.14;\nint memo[100];\n"
        'map<string, int> seen = {{"a", 1}};\nenum Color { RED, GREEN };\nstruct Node { int v; Node* next; };\n'
        "template <typename T> T biggest(T a, T b) { return a > b ? a : b; }\nbool is_odd(int n);\n"
        "bool is_odd(int n) { return n % 2; }\n"
    )
    analysis = analyze(cpp_program(code), HEADER_NAMES, HELPER_HEADERS)
    assert analysis.names == {"ll", "vi", "PI", "memo", "seen", "Color", "RED", "GREEN", "Node", "biggest", "is_odd"}
    assert analysis.includes == frozenset(HELPER_HEADERS) | {"assert.h"}


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        # CPP/23 buggy: at global scope the user's strlen(string) overloads C's; in a namespace it would hide it.
        ("int strlen(string str){ return str.length() - 1; }", "headers own: strlen"),
        ("int count = 0;", "headers own: count"),
        ("typedef int size_t;", "headers own: size_t"),
        ("using std::swap;", "headers own: swap"),
        ("int errno = 0;", "headers own: errno"),
        (
            "int __builtin_twice(int x) { return 2 * x; }",
            "headers own: __builtin_twice",
        ),  # declares the macro's expansion, a libc function
        ("__BEGIN_DECLS int g(); __END_DECLS", "header macro __BEGIN_DECLS"),
        ("template <class T> T max(T a, T b) { return a; }", "headers own: max"),
        ("#define N 10", "preprocessor line"),
        ("#include<openssl/md5.h>", "preprocessor line"),
        ('#include "local.h"', "preprocessor line"),
        ("#pragma once", "preprocessor line"),
        ("struct V { int a; };\nbool operator<(V x, V y) { return x.a < y.a; }", "operator at namespace scope"),
        ("namespace util { int x; }", "namespace other than"),
        ("using namespace boost;", "namespace other than"),
        ('extern "C" int puts(const char*);', "extern"),
        ("struct R { ~R() { } };", "destructor ~R"),
        ("int g = rand();", "calls something"),
        ("vector<int> memo(100, -1);", "parenthesised initialiser"),
        ("int x = 3; int y(x);", "parenthesised initialiser"),
        ("int* p = new int[4];", "may run code"),
        ("struct Q { int a; };\nQ q;", "may run code"),
        ("struct P { P() { srand(3); } } p;", "object of a class type"),
        ("auto f = [](int x) { return x; };", "calls something"),
        ("int line() { return __LINE__; }", "__LINE__"),
        ("string name() { return __func__; }", "__func__"),
        ("int check() { assert(true); return 0; }", "assert before #include <assert.h>"),
        ("int call() { return main(); }", "`main` appears 2 times"),
        ("int ::g() { return 1; }", "globally qualified"),
        ("int f() <% return 1; %>", "'<%' outside"),
        ("int octopack_main() { return 0; }", "octopack_main"),
        ("string tn() { return typeid(int).name(); }", "asks a type for its name"),
        ("int f() try { return 1; } catch (...) { return 0; }", "we do not parse"),
        ("struct alignas(8) pair { int a; };", "class head"),
        ("struct Q { int a; };\ntypedef Q Alias;\nAlias q = {1};", "may run code"),
    ],
)
def test_programs_that_could_behave_differently_in_a_namespace_run_alone(code: str, reason: str):
    found = why_alone(cpp_program(code))
    assert found is not None and reason in found, found


@pytest.mark.parametrize(
    "main",
    [
        "static int main(){ return 0; }",
        "int main(int argc, char** argv){ return 0; }",
        "int main() noexcept { }",
        "auto main() -> int { return 0; }",
        "int main();\nint main(){ return 0; }",
    ],
)
def test_only_a_plain_parameterless_main_is_renamed(main: str):
    assert why_alone(f"{HELPERS}{TEST_HEAD}{main}\n") is not None
    assert why_alone(f"{HELPERS}{TEST_HEAD}int main(void){{ return 0; }}\n") is None


def test_main_is_renamed_and_returns_zero_when_it_flows_off_its_end():
    source = cpp_program("int twice(int x) { return 2 * x; }", "assert(twice(2) == 4);")
    body = cpp_merged.namespace_body(source, analyze(source, HEADER_NAMES, HELPER_HEADERS))
    assert body.count("\n") == source.count("\n")  # line for line: diagnostics map back
    assert "#include" not in body and "#undef" not in body
    assert "int octopack_main(){{\n    assert(twice(2) == 4);\n} return 0;}\n" in body
    assert "int twice(int x) { return 2 * x; }" in body


def test_translation_unit_hoists_includes_and_dispatches_on_the_program_index():
    unit = cpp_merged.translation_unit({3: "int a;\n", 7: "int b;"}, {"vector", "assert.h", "cmath"}, HELPER_HEADERS)
    lines = unit.text.splitlines()
    assert lines[:4] == ["#include <cmath>", "#include <vector>", "#undef NDEBUG", "#include <assert.h>"]
    first, last = unit.ranges[3]
    assert lines[first - 1 : last] == ["namespace octopack_p0003 {", "int a;", "", "}"]
    first, last = unit.ranges[7]
    assert lines[first - 1 : last] == ["namespace octopack_p0007 {", "int b;", "}"]
    assert "case 3: return octopack_p0003::octopack_main();" in unit.text
    assert "if (argc < 2) return 0;" in unit.text


def test_compiler_output_is_pinned_on_the_programs_it_names():
    ranges = {1: (3, 9), 2: (10, 20), 5: (21, 30)}
    output = (
        "batch.cpp: In function 'int octopack_p0001::octopack_main()':\n"
        "batch.cpp:5:12: error: 'x' was not declared in this scope\n"
        "In file included from /usr/include/c++/12/vector:60,\n                 from batch.cpp:1:\n"
        "/usr/include/c++/12/bits/stl_algo.h:4853:18:   required from 'void std::sort(...)'\n"
        "batch.cpp:12:42:   required from here\n"
        "/usr/include/c++/12/bits/predefined_ops.h:158:30: error: expression cannot be used as a function\n"
    )
    assert cpp_merged.attribute(output, "batch.cpp", ranges) == {1, 2}
    linker = (
        "/tmp/cc1.o:batch.cpp:function octopack_p0005::octopack_main(): error: undefined reference to "
        "'octopack_p0005::missing(int)'\ncollect2: error: ld returned 1 exit status\n"
    )
    assert cpp_merged.attribute(linker, "batch.cpp", ranges) == {5}
    assert cpp_merged.attribute("batch.cpp:40:1: error: in the driver\n", "batch.cpp", ranges) is None
    assert (
        cpp_merged.attribute("g++: fatal error: Killed signal terminated program cc1plus\n", "batch.cpp", ranges)
        is None
    )
    assert cpp_merged.attribute("collect2: error: ld returned 1 exit status\n", "batch.cpp", ranges) is None


def test_a_merged_run_reads_as_if_it_ran_alone():
    text = (
        "exit code -6\n/tmp/x/build/batch.out: batch.cpp:57: int octopack_p0003::octopack_main(): Assertion "
        "`octopack_p0003::twice(2) == 5' failed.\nbatch.outline octopack_p0004::f"
    )
    assert cpp_merged.as_alone(text, 3, 40, ("batch.cpp", "batch.out", "test.cpp", "a.out")) == (
        "exit code -6\na.out: test.cpp:17: int main(): Assertion `twice(2) == 5' failed.\n"
        "batch.outline octopack_p0004::f"
    )


def test_static_size_sums_the_loaded_segments():
    header = bytearray(64)
    header[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<Q", header, 0x20, 64)
    struct.pack_into("<HH", header, 0x36, 56, 3)
    segments = b"".join(
        struct.pack("<II6Q", kind, 0, 0, 0, 0, 0, memsz, 0) for kind, memsz in ((1, 4096), (2, 999), (1, 10**6))
    )
    assert cpp_merged.static_size(bytes(header) + segments) == 4096 + 10**6
    assert cpp_merged.static_size(b"#!/bin/sh\n") is None
    assert cpp_merged.static_size(bytes(header)) is None  # segments cut off


def test_visibility_probe_keeps_every_word_the_compiler_did_not_reject():
    preprocessed = "namespace std { int strlen(const char*); struct vector; }\nvoid f(int param);\n"
    probe = cpp_merged.visibility_probe("#include<x>\n", preprocessed)
    rows = {word: number for number, word in probe.lines.items()}
    assert set(rows) == {"std", "strlen", "vector", "f", "param"}  # keywords are never probed
    source_lines = probe.source.splitlines()
    assert source_lines[rows["std"] - 1].endswith("= ::std;")
    assert source_lines[rows["param"] - 1].endswith("{ using ::param; }")
    output = f"<stdin>:{rows['param']}:30: error: '::param' has not been declared\n<stdin>:2:1: note: elsewhere\n"
    assert cpp_merged.visible_names(probe, output, "<stdin>") == {"std", "strlen", "vector", "f"}


def test_probed_header_names_hide_std_and_c_names_but_not_parameter_names(cache_dir):  # noqa: F811 (fixture)
    gxx = find_tool("g++")  # the fixture prepared cpp: the names file sits beside the precompiled header
    names = _header_names(gxx, _pch_header(cache_dir, gxx))
    visible = {"strlen", "unique", "max_element", "search", "is_sorted", "vector", "string", "std", "boost", "stdin"}
    assert visible <= names.visible
    assert not {"f", "compare", "common", "has_close_elements", "octopack_main", "errno"} & names.visible
    assert {"errno", "assert", "INT_MAX", "__BEGIN_DECLS"} <= names.macros


# ------------------------------------------------------------------------------------------ integration

SHORT = Limits(compile_timeout=60, run_timeout=1.5)  # one limits object: the whole stress batch can merge

STRESS: dict[str, str] = {
    "passes": cpp_program("int add(int a, int b) { return a + b; }", "assert(add(2, 3) == 5);"),
    "assert fails": cpp_program("int add(int a, int b) { return a - b; }", "assert(add(2, 3) == 5);"),
    "segfault": cpp_program("int* nowhere = 0;", "volatile int x = *nowhere; (void)x;"),
    "infinite loop": cpp_program("volatile int spins = 0;", "while (true) { spins++; }"),
    "exit(0) midway": cpp_program("", "exit(0);\n    assert(false);"),
    "returns 1": cpp_program("", "return 1;"),
    "compile error": cpp_program("int f() { return undefined_name; }"),
    "link error": cpp_program("int missing(int);", "assert(missing(1) == 1);"),
    "template error": cpp_program("", "vector<int> v; sort(v.begin(), v.end(), 5);"),
    "same name one": cpp_program("int helper(int x) { return x + 1; }", "assert(helper(1) == 2);"),
    "same name two": cpp_program("int helper(int x) { return x * 10; }", "assert(helper(1) == 10);"),
    # CPP/23 buggy: passes alone because strlen("") binds to C's strlen; inside a namespace it would fail.
    "strlen like CPP/23": cpp_program(
        "int strlen(string str) { return str.length() - 1; }", 'assert(strlen("") == 0);\n    assert(strlen("x") == 1);'
    ),
    "dynamic global": cpp_program("int seed = (srand(7), rand());", "assert(seed == seed);"),
    "static globals": cpp_program(
        'int counter = 5;\nvector<int> base = {1, 2, 3};\nstring word = "abc";',
        "counter += base.size() + word.size();\n    assert(counter == 11);",
    ),
    "#define": cpp_program("#define TWICE(x) (2 * (x))", "assert(TWICE(2) == 4);"),
    "writes a file": cpp_program("", 'ofstream("shared.txt") << "x";\n    assert(ifstream("shared.txt").good());'),
    "expects no file": cpp_program("", 'assert(!ifstream("shared.txt").good());'),
    "falls off main after output": cpp_program("", 'printf("%d\\n", 42);'),
    "passes too": cpp_program("bool is_even(int n) { return n % 2 == 0; }", "assert(is_even(4));"),
}
EXPECTED = {
    "passes": "passed",
    "assert fails": "failed",
    "segfault": "failed",
    "infinite loop": "timeout",
    "exit(0) midway": "passed",
    "returns 1": "failed",
    "compile error": "compile_error",
    "link error": "compile_error",
    "template error": "compile_error",
    "same name one": "passed",
    "same name two": "passed",
    "strlen like CPP/23": "passed",
    "dynamic global": "passed",
    "static globals": "passed",
    "#define": "passed",
    "writes a file": "passed",
    "expects no file": "passed",
    "falls off main after output": "passed",
    "passes too": "passed",
}
RUN_ALONE = {"strlen like CPP/23", "dynamic global", "#define"}  # refused by analyze: never merged


class RecordingSandbox:
    """The real sandbox, remembering every command it ran."""

    def __init__(self, inner):
        self.inner, self.commands = inner, []

    def run(self, argv, **kwargs):
        self.commands.append([str(part) for part in argv])
        if argv[-1] == "manifest.json":  # the batch server (exec_batch): record the commands it will run
            manifest = json.loads((kwargs["workdir"] / "manifest.json").read_text())
            self.commands += [job["argv"] for job in manifest["programs"]]
        return self.inner.run(argv, **kwargs)


def test_a_merged_batch_decides_like_single_runs(workdir, sandbox, cache_dir):  # noqa: F811 (fixtures)
    cpp = get_language("cpp")
    programs = [Program("cpp", source, SHORT) for source in STRESS.values()]
    recorder = RecordingSandbox(sandbox)
    reported: dict[int, str] = {}
    batched = cpp.execute_batch(
        programs, workdir, recorder, cache_dir, on_verdict=lambda i, v: reported.setdefault(i, v.status)
    )
    singles = []
    for index, program in enumerate(programs):
        single_dir = workdir / f"alone{index}"
        single_dir.mkdir()
        singles.append(cpp.execute(program, single_dir, sandbox, cache_dir))
    names = list(STRESS)
    table = {name: (b.status, s.status) for name, b, s in zip(STRESS, batched, singles, strict=True)}
    assert all(b == s for b, s in table.values()), table
    assert {name: pair[0] for name, pair in table.items()} == EXPECTED, table
    assert reported == {i: v.status for i, v in enumerate(batched)}
    failing = names.index("assert fails")  # its message reads as if it ran alone: a.out, test.cpp's line, main
    assert batched[failing].detail == singles[failing].detail, (batched[failing].detail, singles[failing].detail)
    # The merge really happened: one unit for all mergeable programs, each then run by index from the binary.
    merged_runs = {int(c[1]) for c in recorder.commands if c[0].endswith("batch.out") and len(c) == 2}
    compiled_together = {"compile error", "link error", "template error"}
    assert {names[i] for i in merged_runs} == set(STRESS) - RUN_ALONE - compiled_together
    # Compile errors stop g++ before it links: the unit fails twice (compiling, then linking) before it builds.
    assert sum(1 for c in recorder.commands if "batch.cpp" in c) == 3


def test_a_merged_main_starts_on_the_stack_a_lone_main_starts_on(workdir, sandbox, cache_dir):  # noqa: F811
    # The driver tail-calls the program's main, so its frame sits where a lone main's does: uninitialised locals
    # see the same start-up leftovers. environ (the envp array) lies 8 bytes further up per extra argv entry.
    depth = cpp_program(
        "int unused_slot() { int probe[4]; return probe[1]; }",
        'long d = (char*)environ - (char*)__builtin_frame_address(0);\n    fprintf(stderr, "depth=%ld\\n", d);\n'
        "    return 3;",
    )
    programs = [Program("cpp", depth, QUICK), Program("cpp", STRESS["passes"], QUICK)]
    cpp = get_language("cpp")
    merged = cpp.execute_batch(programs, workdir, sandbox, cache_dir)
    single_dir = workdir / "alone"
    single_dir.mkdir()
    alone = cpp.execute(programs[0], single_dir, sandbox, cache_dir)
    assert [v.status for v in merged] == ["failed", "passed"] and alone.status == "failed"
    merged_depth = int(merged[0].detail.split("depth=")[1].split()[0])
    alone_depth = int(alone.detail.split("depth=")[1].split()[0])
    assert merged_depth == alone_depth + 8, (merged[0].detail, alone.detail)  # (equal would mean: not merged)


# ------------------------------------------------------------------------------------------ real data


@pytest.mark.slow
def test_all_real_programs_get_the_same_status_merged_and_alone(humanevalpack_dir, sandbox, cache_dir, tmp_path):  # noqa: F811
    from lm_eval_octopack.humanevalpack.assemble import assemble_programs

    # Budgets far from how long real programs run before they fail: CPP/76 buggy ~5 s; CPP/22 buggy grows a list
    # until the 2 GiB memory limit kills it, ~10-13 s here (a 10 s budget raced it: timeout merged, failed alone).
    limits = Limits(compile_timeout=60, run_timeout=40)
    docs = [json.loads(line) for line in (humanevalpack_dir / "cpp.jsonl").read_text().splitlines() if line.strip()]
    programs, labels = [], []
    for doc in docs:
        sources = assemble_programs(
            doc, "cpp", [doc["prompt"] + doc["canonical_solution"], doc["prompt"] + doc["buggy_solution"]]
        )
        programs += [Program("cpp", source, limits) for source in sources]
        labels += [(doc["task_id"], "canonical"), (doc["task_id"], "buggy")]
    cpp = get_language("cpp")
    mergeable = sum(len(chunk) for chunk in _chunks(programs, cache_dir))
    assert mergeable >= 310, mergeable  # 316 of 328 here: strlen/unique/max_element/search/is_sorted and MD5 stay out
    batched = execute_in_chunks(cpp, programs, tmp_path, sandbox, cache_dir)
    wrong = []
    for index, (program, verdict) in enumerate(zip(programs, batched, strict=True)):
        single_dir = tmp_path / f"alone{index}"
        single_dir.mkdir()
        alone = cpp.execute(program, single_dir, sandbox, cache_dir)
        if alone.status != verdict.status:
            wrong.append((*labels[index], verdict.status, alone.status, verdict.detail[:200]))
    assert not wrong, wrong


def _chunks(programs, cache):
    gxx = find_tool("g++")
    return _mergeable_groups(programs, _header_names(gxx, _pch_header(cache, gxx)), {})
