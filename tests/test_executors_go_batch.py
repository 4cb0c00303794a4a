"""Go batches linked into one test binary (``go_merged``) must decide every program as ``go test`` alone would.

The unit tests pin which programs may join a merged batch and how their imports and initialisation are read; the
integration test runs programs that stress the merge (panics, a crash of the whole binary, os.Exit, vet-only
findings, malformed test names, skips, parallel tests) in ONE batch and compares each verdict with the
reference-shaped single run. The adversarial test has programs forge their batch-mates' verdicts (report lines,
go test's output, files, package initialisation that exits 0 in every run): each program's verdict must stay its
own.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from lm_eval_octopack.executors.registry import get_language
from lm_eval_octopack.executors.runtime.merged import go as go_merged
from lm_eval_octopack.executors.types import Limits, Program
from test_executors_languages import GO_HEADER, QUICK, cache_dir, execute_in_chunks, workdir  # noqa: F401 (fixtures)

ASSERT_OK = "assert.New(t).Equal(2, 1+1)"


def go_program(body: str, header: str = GO_HEADER) -> str:
    return header + body


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (f"func TestA(t *testing.T) {{ {ASSERT_OK} }}\n", ["TestA"]),
        (f"func Test(t *testing.T) {{ {ASSERT_OK} }}\nfunc Test_x(t *testing.T) {{}}\n", ["Test", "Test_x"]),
        (f"func TestA( t *testing.T ) {{ {ASSERT_OK} }}\nfunc helper() {{}}\n", ["TestA"]),
        (f"func Testa(t *testing.T) {{ {ASSERT_OK} }}\n", None),  # go test skips it, vet flags it
        (f"func TestA(t *testing.T) {{ {ASSERT_OK} }}\nfunc TestMain(m *testing.M) {{ m.Run() }}\n", None),
        (f"func TestA(t *testing.T) {{ {ASSERT_OK} }}\nfunc init() {{}}\n", None),
        (f"func TestA(t *testing.T) {{ {ASSERT_OK} }}\nfunc ExampleA() {{}}\n", None),
        (f"func TestA(\n    t *testing.T,\n) {{ {ASSERT_OK} }}\n", None),  # a signature we do not parse
        ("func helper() {}\n", None),  # no tests at all: go test passes it, the single run decides
        (f" func TestMain(m *testing.M) {{ m.Run() }}\nfunc TestA(t *testing.T) {{ {ASSERT_OK} }}\n", None),
        (f"//go:build linux\n\nfunc TestA(t *testing.T) {{ {ASSERT_OK} }}\n", None),  # may drop the package
    ],
)
def test_only_programs_whose_tests_we_can_enumerate_join_a_merged_batch(body: str, expected: list[str] | None):
    assert go_merged.test_functions(go_program(body)) == expected


def test_package_clause_is_renamed_after_leading_comments_only():
    source = '// a comment\npackage main\n\nvar s = "package main"\n'
    assert go_merged.as_package(source, "prog007") == '// a comment\npackage prog007\n\nvar s = "package main"\n'
    assert go_merged.test_functions("package other\nfunc TestA(t *testing.T) {}\n") is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('package main\n\nimport "fmt"\nimport s "strings"\n', ["fmt", "strings"]),
        (
            '// c\npackage main; import ( /* x */ . "math"; _ "embed"\n "os" // y\n)\nfunc f() {}\n',
            ["math", "embed", "os"],
        ),
        ("package main\nimport (\n    `C`\n)\n", ["C"]),
        ('package main\nvar s = "x"\nimport "C"\n', []),  # not an import: the header ended at `var`
        ('package main\nimport "\\x43"\n', None),  # an escape could spell "C"
        ('package main\nimport (\n "fmt"\n', None),
        ("package other\n", None),
    ],
)
def test_imports_are_read_from_the_file_header(header: str, expected: list[str] | None):
    assert go_merged.imports(header) == expected


@pytest.mark.parametrize("imported", ['"C"', "`C`", '"unsafe"', 'u "unsafe"'])
def test_programs_importing_cgo_or_unsafe_stay_out(imported: str):
    source = (
        GO_HEADER.replace('"testing"', f'"testing"\n    {imported}') + f"func TestA(t *testing.T) {{ {ASSERT_OK} }}\n"
    )
    assert go_merged.test_functions(source) is None
    assert go_merged.test_functions(GO_HEADER + f"func TestA(t *testing.T) {{ {ASSERT_OK} }}\n") == ["TestA"]


def test_initialising_packages_cannot_be_read_from_what_is_not_an_elf_symbol_table():
    assert (
        go_merged.initializing_packages(b"\x00humanEval.init\x00humanEval/prog001.init\x00", "humanEval", [1]) is None
    )
    assert go_merged.initializing_packages(b"\x7fELF\x02\x01" + b"\x00" * 10, "humanEval", [1]) is None


def test_each_program_gets_top_level_driver_tests_and_a_filter_of_its_own():
    entries = [
        go_merged.DriverEntry(3, ["TestA", "TestB"], 3, "__p003"),
        go_merged.DriverEntry(5, ["TestA"], 3, "__p005"),
        go_merged.DriverEntry(31, ["TestA"], 31),
    ]
    driver = go_merged.driver_source(entries, "humanEval")
    assert "func TestP003_TestB(t *testing.T) { prog003.TestB__p003(t) }" in driver
    assert "func TestP005_TestA(t *testing.T) { prog003.TestA__p005(t) }" in driver
    assert "func TestP031_TestA(t *testing.T) { prog031.TestA(t) }" in driver
    assert driver.count('prog003 "humanEval/prog003"') == 1 and 'prog031 "humanEval/prog031"' in driver
    assert go_merged.test_filter(3) == "-test.run=^TestP003_"  # never matches TestP031_
    failure = "--- FAIL: TestP003_TestA\n\tp003.go:9: x\nprog003.Half__p003(...)"
    assert go_merged.localize(failure, 3) == "--- FAIL: TestA\n\tmain_test.go:9: x\nprog003.Half(...)"


def test_renamed_programs_share_packages_in_order_and_the_rest_are_alone():
    packages = go_merged.shared_packages([0, 1, 2, 3, 4, 5], {0, 2, 3, 5}, size=3)
    assert packages == [[0, 2, 3], [5], [1], [4]]


def test_vet_output_names_the_programs_it_flags():
    output = (
        "# humanEval/vet004\nvet004/p007_test.go:9:17: fmt.Printf format %d has arg Half__p007\n"
        "vet: vet011/p011_test.go:8:5: x\n"
    )
    findings = go_merged.vet_findings(output, [4, 7, 11])
    assert findings == {7: "main_test.go:9:17: fmt.Printf format %d has arg Half", 11: "vet: main_test.go:8:5: x"}
    assert [go_merged.is_type_error(findings[i]) for i in (7, 11)] == [False, True]
    assert go_merged.vet_findings("go: something unrelated went wrong\n", [4, 7]) is None
    assert go_merged.vet_findings("vet009/p009_test.go:1:1: x\n", [4, 7]) is None  # not one of ours


STRESS = {
    "passes": f"func TestA(t *testing.T) {{ {ASSERT_OK} }}\n",
    "panics": "func TestA(t *testing.T) { var xs []int; _ = xs[3] }\n",
    "crashes the binary": "func f(n int) int { return f(n+1) + 1 }\nfunc TestA(t *testing.T) { f(0) }\n",
    "goroutine panic": (
        'func TestA(t *testing.T) { done := make(chan bool); go func() { panic("boom") }(); <-done }\n'
    ),
    "exits 0": "func TestA(t *testing.T) { os.Exit(0) }\n",
    "exits 1": "func TestA(t *testing.T) { os.Exit(1) }\n",
    "vet printf": 'func TestA(t *testing.T) { fmt.Printf("%d\\n", "s") }\n',
    "malformed name": f"func TestA(t *testing.T) {{ {ASSERT_OK} }}\nfunc Testb(t *testing.T) {{}}\n",
    "skips": 'func TestA(t *testing.T) { t.Skip("later") }\n',
    "parallel": f"func TestA(t *testing.T) {{ t.Parallel(); {ASSERT_OK} }}\nfunc TestB(t *testing.T) {{ {ASSERT_OK} }}\n",
    "fails second test": f'func TestA(t *testing.T) {{ {ASSERT_OK} }}\nfunc TestB(t *testing.T) {{ t.Fatal("no") }}\n',
    "prints a lot": 'func TestA(t *testing.T) { for i := 0; i < 20000; i++ { fmt.Println("spam spam spam") } }\n',
    "passes too": f"func TestB(t *testing.T) {{ {ASSERT_OK} }}\n",
}
STRESS_HEADER = GO_HEADER.replace('"testing"', '"testing"\n    "fmt"\n    "os"')


def _stress_source(body: str) -> str:
    # Every stress program imports assert, fmt and os; keep them used so only the intended finding remains.
    return STRESS_HEADER + body + "var _ = fmt.Sprint\nvar _ = os.Getpid\nvar _ = assert.New\n"


def test_a_merged_batch_decides_like_single_runs(workdir, sandbox, cache_dir):  # noqa: F811 (fixtures)
    go = get_language("go")
    programs = [Program("go", _stress_source(body), QUICK) for body in STRESS.values()]
    batched = go.execute_batch(programs, workdir, sandbox, cache_dir)
    singles = []
    for index, program in enumerate(programs):
        single_dir = workdir / f"alone{index}"
        single_dir.mkdir()
        singles.append(go.execute(program, single_dir, sandbox, cache_dir))
    table = {name: (b.status, s.status) for name, b, s in zip(STRESS, batched, singles, strict=True)}
    assert all(b.passed == s.passed for b, s in zip(batched, singles, strict=True)), table
    assert [name for name, verdict in zip(STRESS, batched, strict=True) if verdict.passed] == [
        "passes",
        "skips",
        "parallel",
        "prints a lot",
        "passes too",
    ], table
    assert table["vet printf"] == ("compile_error", "compile_error")
    assert table["malformed name"] == ("compile_error", "compile_error")


def test_a_failed_assertion_keeps_its_message_in_a_merged_batch(workdir, sandbox, cache_dir):  # noqa: F811
    failing = go_program("func TestA(t *testing.T) { assert.New(t).Equal(3, 1+1) }\n")
    passing = go_program(f"func TestA(t *testing.T) {{ {ASSERT_OK} }}\n")
    verdicts = get_language("go").execute_batch(
        [Program("go", failing, QUICK), Program("go", passing, QUICK)], workdir, sandbox, cache_dir
    )
    assert [v.status for v in verdicts] == ["failed", "passed"]
    assert "Not equal" in verdicts[0].detail and "expected: 3" in verdicts[0].detail


# ------------------------------------------------------------------------------- programs sharing a package

# Every name that could be renamed wrongly: a package-level name shadowed by a local and a parameter, a method
# and a field of the same name as a function, composite-literal keys, a generic type, a constant, main itself.
SHARING = (
    GO_HEADER
    + """type Pair[T any] struct { Half T; Other T }
const Limit = 2
func (p Pair[T]) Swap() Pair[T] { return Pair[T]{Half: p.Other, Other: p.Half} }
func Half(n int) int { Limit := n / 2; return Limit }
func Twice(Half int) int { return Half * Limit }
func main() {}
func TestHalf(t *testing.T) {
    main()
    p := Pair[int]{Half: 1, Other: Half(8)}.Swap()
    assert.New(t).Equal(EXPECTED, p.Half+Twice(p.Other))
}
"""
)


def _renamed(programs: dict[str, str], cache, folder) -> dict[str, str]:
    """What the prepared rename tool writes for each program (``.renamed`` or ``.refused``)."""
    from lm_eval_octopack.executors.languages.go import _renamer

    tool, exports = _renamer(cache, go_executable())
    for name, source in programs.items():
        (folder / f"{name}.go").write_text(source)
    subprocess.run([str(tool), str(exports), str(folder)], check=True, capture_output=True, timeout=60)
    return {
        name: next(
            (folder / f"{name}{kind}").read_text()
            for kind in (".renamed", ".refused")
            if (folder / f"{name}{kind}").is_file()
        )
        for name in programs
    }


def test_only_package_level_names_are_renamed(workdir, cache_dir):  # noqa: F811 (fixtures)
    renamed = _renamed({"007": SHARING.replace("EXPECTED", "6")}, cache_dir, workdir)["007"]
    assert renamed.splitlines()[7:11] == [
        "type Pair__p007[T any] struct { Half T; Other T }",
        "const Limit__p007 = 2",
        "func (p Pair__p007[T]) Swap() Pair__p007[T] { return Pair__p007[T]{Half: p.Other, Other: p.Half} }",
        "func Half__p007(n int) int { Limit := n / 2; return Limit }",
    ]
    assert "func Twice__p007(Half int) int { return Half * Limit__p007 }" in renamed
    assert "main__p007()" in renamed and "p := Pair__p007[int]{Half: 1, Other: Half__p007(8)}.Swap()" in renamed
    assert len(renamed.splitlines()) == len(SHARING.splitlines())  # positions in messages stay


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("type Inner struct{}\ntype Outer struct { Inner }\n", "embedded field Inner"),
        ("var table = map[int]int{1: 2}\n", "package-level variable with an initial value: table"),
        ("func helper__p001() {}\n", "a name could collide with a renamed one: helper__p001"),
        ("func f() int { return undefined }\n", "does not type-check alone"),
        ("func f( {\n", "does not parse"),
        ("func f() int { return min(1, 2) }\n", "requires go1.21"),  # the reference module's language version
    ],
)
def test_programs_that_cannot_share_a_package_are_refused(body, reason, workdir, cache_dir):  # noqa: F811
    source = go_program(f"{body}func TestA(t *testing.T) {{ {ASSERT_OK} }}\n")
    assert reason in _renamed({"000": source}, cache_dir, workdir)["000"]


def test_programs_sharing_packages_decide_as_alone(workdir, sandbox, cache_dir, monkeypatch):  # noqa: F811
    """Twelve programs with the same names (half of them failing) and refused ones between them, in one batch."""
    from lm_eval_octopack.executors.languages import go as go_language

    shared = []
    link = go_language._GoBuild._link
    monkeypatch.setattr(go_language._GoBuild, "_link", lambda self, m: shared.append(self.packages) or link(self, m))
    refused = go_program("var answer = 2\nfunc TestA(t *testing.T) { assert.New(t).Equal(answer, 1+1) }\n")
    vetted = go_program(
        'func TestA(t *testing.T) { assert.New(t).Equal("2", fmt.Sprintf("%d", "2")) }\n',
        GO_HEADER.replace('"testing"', '"testing"\n    "fmt"'),
    )
    sources = [SHARING.replace("EXPECTED", str(6 + k % 2)) for k in range(12)]
    sources[3:3] = [refused, vetted]
    programs = [Program("go", source, QUICK) for source in sources]
    go = get_language("go")
    batched = go.execute_batch(programs, workdir, sandbox, cache_dir)
    for index, program in enumerate(programs):
        (workdir / f"alone{index}").mkdir()
        alone = go.execute(program, workdir / f"alone{index}", sandbox, cache_dir)
        assert (batched[index].status, index) == (alone.status, index), (batched[index], alone)
    assert [v.status for v in batched[:5]] == ["passed", "failed", "passed", "passed", "compile_error"]
    assert shared and [len(p) for p in shared[0]] == [8, 5, 1], shared  # 13 renamed (one vet names), 1 alone
    assert "main_test.go:17" in batched[1].detail and "__p" not in batched[1].detail + batched[4].detail


# ------------------------------------------------------------------------------------------ real data


@pytest.mark.slow
def test_real_programs_decide_shared_as_alone(humanevalpack_dir, sandbox, cache_dir, tmp_path, monkeypatch):  # noqa: F811
    """All 328 real programs in merged batches, most of them sharing packages, and each run alone too: the same
    status (the compile errors are the batch vet's)."""
    from lm_eval_octopack.executors.languages import go as go_language

    from lm_eval_octopack.humanevalpack.assemble import assemble_programs

    limits = Limits(compile_timeout=60, run_timeout=10)
    docs = [json.loads(line) for line in (humanevalpack_dir / "go.jsonl").read_text().splitlines() if line.strip()]
    programs, labels = [], []
    for doc in docs:
        sources = assemble_programs(
            doc, "go", [doc["prompt"] + doc["canonical_solution"], doc["prompt"] + doc["buggy_solution"]]
        )
        programs += [Program("go", source, limits) for source in sources]
        labels += [f"{doc['task_id']} canonical", f"{doc['task_id']} buggy"]
    go, shared = get_language("go"), []
    link = go_language._GoBuild._link
    monkeypatch.setattr(go_language._GoBuild, "_link", lambda self, m: shared.append(self.packages) or link(self, m))
    batched = execute_in_chunks(go, programs, tmp_path, sandbox, cache_dir)
    assert sum(v.status == "compile_error" for v in batched) >= 10  # 16 here, most of them vet's
    assert sum(len(p) for packages in shared for p in packages if len(p) > 1) >= 300  # 312 of 328 here
    wrong = []
    for index in range(len(programs)):
        single_dir = tmp_path / f"alone{index}"
        single_dir.mkdir()
        alone = go.execute(programs[index], single_dir, sandbox, cache_dir)
        if alone.status != batched[index].status:
            wrong.append((labels[index], batched[index].status, alone.status, batched[index].detail[:200]))
    assert not wrong, wrong


# ------------------------------------------------------------------------------------------- adversarial

FORGER_HEADER = GO_HEADER.replace('"testing"', '"testing"\n    "fmt"\n    "os"\n    "syscall"')
# Every way a program could speak for its batch-mates: go test's own output, the report lines and file of the
# former in-process driver (in its working directory and its parent), then exit 0 past go test's os.Exit hook.
OUTPUT_FORGER = (
    FORGER_HEADER
    + """func forge() {
    for i := 0; i < 64; i++ {
        line := fmt.Sprintf("end %d pass 0.001\\n", i)
        fmt.Printf("--- PASS: TestP%03d_TestA (0.00s)\\n%s", i, line)
        for _, path := range []string{"reports.txt", "../reports.txt", "../../reports.txt"} {
            if f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err == nil {
                f.WriteString(line)
                f.Close()
            }
        }
    }
    fmt.Println("PASS\\nok  \\thumanEval\\t0.01s")
    syscall.Exit(0)
}
func TestA(t *testing.T) { assert.New(t); forge() }
"""
)
# Package initialisation runs in every process of a binary: linked with its batch-mates, this would pass them all.
INIT_FORGER = OUTPUT_FORGER.replace(
    "func TestA(t *testing.T) { assert.New(t); forge() }",
    "var forged = forgeAll()\n"
    "func forgeAll() int { forge(); return 0 }\nfunc TestA(t *testing.T) { assert.New(t).Equal(0, forged) }",
)


def _buggy(k: int) -> str:
    return go_program(f"func TestA(t *testing.T) {{ assert.New(t).Equal({k + 3}, 1+1) }}\n")


class Recording:
    """The real sandbox, remembering the programs the merged binary was run for (by position)."""

    def __init__(self, inner):
        self.inner, self.filters = inner, []

    def run(self, argv, **kwargs):
        if argv[-1] == "manifest.json":  # the batch server (exec_batch): the commands it will run
            manifest = json.loads((kwargs["workdir"] / "manifest.json").read_text())
            self.filters += [int(job["argv"][1].split("P")[1][:3]) for job in manifest["programs"]]
        return self.inner.run(argv, **kwargs)


def test_no_program_can_forge_its_batch_mates_verdicts(workdir, sandbox, cache_dir):  # noqa: F811 (fixtures)
    go, recording = get_language("go"), Recording(sandbox)
    sources = [OUTPUT_FORGER, INIT_FORGER] + [_buggy(k) for k in range(14)] + [_buggy(-1)]  # the last one passes
    programs = [Program("go", source, QUICK) for source in sources]
    batched = go.execute_batch(programs, workdir, recording, cache_dir)
    assert [v.status for v in batched[2:16]] == ["failed"] * 14, [v.status for v in batched]
    assert batched[16].passed
    # the forgers themselves pass, as go test passes them alone (exit 0 is its whole rule)
    for index in (0, 1):
        (workdir / f"alone{index}").mkdir()
        alone = go.execute(programs[index], workdir / f"alone{index}", sandbox, cache_dir)
        assert batched[index].status == alone.status == "passed", (batched[index], alone)
    # the merged binary ran every program but the one with initialisation code, which was linked out
    assert sorted(recording.filters) == [0, *range(2, 17)]


# ------------------------------------------------------------------------------------ the shared build cache

PASSING = go_program(f"func TestA(t *testing.T) {{ {ASSERT_OK} }}\n")


@pytest.mark.slow
def test_a_copied_build_cache_is_an_error_until_setup_rewarms_it(sandbox, cache_dir, tmp_path):  # noqa: F811
    """A prepared cache copied elsewhere (``cp -a`` keeps file times) cannot serve testify: build IDs include the
    module cache's path. Every program then fails writing into the read-only cache: that is an ``error``
    naming setup, never a verdict; doctor says so; setup re-warms it; file times alone change nothing."""
    from lm_eval_octopack.executors.errors import ExecutionInfrastructureError
    from lm_eval_octopack.executors.languages.go import _stale_dependencies

    go, copied = get_language("go"), tmp_path / "cache"
    copied.mkdir()
    subprocess.run(["cp", "-a", str(cache_dir / "go"), str(copied / "go")], check=True)
    (tmp_path / "run1").mkdir()
    with pytest.raises(ExecutionInfrastructureError, match=r"read-only.*lm-eval-octopack setup go"):
        go.execute(Program("go", PASSING, QUICK), tmp_path / "run1", sandbox, copied)
    report = go.check(copied)
    assert not report.ok and "lm-eval-octopack setup go" in " ".join(report.missing), report
    go.prepare(copied)
    assert go.check(copied).ok
    for path in (copied / "go").rglob("*"):
        os.utime(path, (1e9, 1e9), follow_symlinks=False)
    assert _stale_dependencies(copied, go_executable()) == []
    (tmp_path / "run2").mkdir()
    assert go.execute(Program("go", PASSING, QUICK), tmp_path / "run2", sandbox, copied).passed


def test_a_program_printing_the_cache_error_gets_its_own_verdict(workdir, sandbox, cache_dir):  # noqa: F811
    """Only go's own build failure, confirmed by the cache itself, is an ``error``: a program cannot stop a run."""
    message = f"FAIL\\tx [setup failed]\\nopen {cache_dir}/go/gocache/00/x-d: read-only file system"
    header = GO_HEADER.replace("import (\n", 'import (\n    "fmt"\n')
    source = go_program(
        f'func TestA(t *testing.T) {{ fmt.Println("{message}"); t.Fail() }}\nvar _ = assert.New\n', header
    )
    verdict = get_language("go").execute(Program("go", source, QUICK), workdir, sandbox, cache_dir)
    # not an error; compile_error, not failed: _single_verdict reads "[setup failed]" anywhere (a fail either way)
    assert verdict.status == "compile_error" and "read-only file system" in verdict.detail, verdict


def go_executable() -> str:
    from lm_eval_octopack.executors.languages.go import GO_DIRS, find_tool

    return find_tool("go", GO_DIRS)
