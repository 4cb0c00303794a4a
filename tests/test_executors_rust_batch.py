"""Rust batches compiled as one test crate (``rust_merged``) must decide every program as its own crate would.

The unit tests pin which programs may join a merged crate (a program must never compile inside a module yet
fail alone) and how rustc's JSON errors are pinned on programs; the integration tests put programs that stress
the merge (panics, stack overflow, hangs, ``process::exit``, compile errors and deny-by-default lints, clashing
names, no tests) in ONE batch and compare each verdict with the single path's. Both paths follow the reference's
build rule: ``cargo check`` as a plain binary before the tests, so code that compiles only under ``cfg(test)``
fails batched and alone.
"""

from __future__ import annotations

import json

import pytest
from lm_eval_octopack.executors.registry import get_language
from lm_eval_octopack.executors.runtime.merged import rust as rust_merged
from lm_eval_octopack.executors.types import Limits, Program
from test_executors_languages import (  # noqa: F401 (fixtures)
    PROGRAMS,
    QUICK,
    RUST_TESTS,
    cache_dir,
    execute_in_chunks,
    workdir,
)

TESTS = "#[cfg(test)]\nmod tests {\n    use super::*;\n    #[test]\n    fn t() { %s }\n}\n"


def rust_program(items: str, test_body: str = "assert_eq!(f(), 1);") -> str:
    return "fn main(){}\n" + items + "\n" + TESTS % test_body


ONE = "fn f() -> i32 { 1 }"


# ------------------------------------------------------------------------------------------- eligibility


@pytest.mark.parametrize(
    "source",
    [
        rust_program(ONE),
        "use rand::Rng;\nuse regex::Regex;\nuse md5;\nuse std::{cmp::{max, self}, collections::HashMap};\n"
        + RUST_TESTS % "",
        rust_program("pub(crate) fn f() -> i32 { 1 }"),
        rust_program("mod inner { pub(super) fn g() {} }\nfn f() -> i32 { inner::g(); 1 }"),
        rust_program(ONE + '\nfn s() -> &\'static str { "} { /* \\" crate:: super::x" }'),
        rust_program(ONE + "\nfn c() -> [char; 3] { ['}', '\\'', '{'] }\nfn l<'a>(x: &'a str) -> &'a str { x }"),
        rust_program(ONE + '\nfn r() -> &\'static str { r#"unsafe " } extern"# }\n/* nested /* } */ { */'),
        rust_program(
            ONE + "\n// extern crate x; #![allow(x)] mod m; include!(\"x\")\nfn t2() { 'outer: loop { break 'outer; } }"
        ),
        rust_program(ONE + "\nmacro_rules! twice { ($e:expr) => { $e * 2 } }\nfn g() -> i32 { twice!(f()) }"),
        rust_program(ONE + "\nfn lines(s: &str) -> usize { let line = s.lines().count(); let file = 1; line + file }"),
        rust_program(ONE, "std::process::exit(0);"),
    ],
)
def test_ordinary_programs_join_a_merged_crate(source: str):
    assert rust_merged.ineligibility(source) is None


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("#![allow(dead_code)]\n" + rust_program(ONE), "inner attribute"),
        ("//! crate docs\n" + rust_program(ONE), "inner doc comment"),
        # alone `super` at the crate root is an error; inside a module it would name the merged crate's root
        (rust_program(ONE + "\nuse super::*;"), "`super` outside"),
        (rust_program("pub(super) fn f() -> i32 { 1 }"), "`super` outside"),
        (rust_program(ONE + "\nfn g() { use super::*; }"), "`super` outside"),
        (rust_program(ONE + "\nmod a { use super::super::*; }"), "`super::super`"),
        (rust_program(ONE + "\nmod a { macro_rules! m { () => { use super::*; } } }"), "inside a macro"),
        (rust_program("fn f() -> i32 { crate::g() }\nfn g() -> i32 { 1 }"), "`crate`"),
        (rust_program(ONE + "\nuse crate as root;"), "`crate`"),
        (rust_program(ONE + "\nmacro_rules! m { () => { $crate::f() } }"), "`crate`"),
        (rust_program(ONE + "\nextern crate rand;"), "`extern`"),
        (rust_program(ONE + '\nextern "C" { fn abs(x: i32) -> i32; }'), "`extern`"),
        (rust_program(ONE + "\n#[no_mangle]\npub fn exported() {}"), "`no_mangle`"),
        (rust_program(ONE + '\n#[export_name = "x"]\npub fn exported() {}'), "`export_name`"),
        (rust_program(ONE + "\n#[macro_export]\nmacro_rules! m { () => {} }"), "`macro_export`"),
        (rust_program(ONE + "\nmod helpers;"), "file module"),
        (rust_program(ONE + '\nconst S: &str = include_str!("main.rs");'), "`include_str`"),
        (rust_program(ONE + "\n#[deny(dead_code)]\nfn unused() {}"), "`deny`"),
        (rust_program(ONE, "assert_eq!(line!(), 9);"), "`line!`"),
        (rust_program(ONE, 'assert!(module_path!().ends_with("tests"));'), "`module_path`"),
        (rust_program(ONE, 'assert!(std::any::type_name::<i32>() != "");'), "`type_name`"),
        (rust_program(ONE, "assert!(std::env::args().count() == 1);"), "`env`"),
        (rust_program(ONE, 'assert!(std::fs::read_to_string("main.rs").is_ok());'), "`fs`"),
        (rust_program(ONE, "assert!(std::thread::current().name().is_some());"), "thread's name"),
        (rust_program(ONE, "std::panic::set_hook(Box::new(|info| assert!(info.to_string().len() > 0)));"), "set_hook"),
        (rust_program(ONE, "let p = &1 as *const i32; assert_eq!(unsafe { *p }, 1);"), "`unsafe`"),
        (rust_program(ONE) + "mod octopack_p0001 {}\n", "mentions octopack_p"),
        (rust_program(ONE) + "}\nmod evil {\n", "unbalanced"),
        (rust_program(ONE) + "/* never closed", "unterminated block comment"),
        (rust_program(ONE) + 'const S: &str = r#"never closed";', "unterminated raw string"),
        (rust_program(ONE) + 'const S: &str = "\ud800";', "UTF-8"),
        # in a module `main` is an ordinary function: only a plain one is sure to be a valid entry point alone
        ("#[cfg(test)]\nfn main(){}\n" + ONE + "\n" + TESTS % "", "plain top-level `fn main() {`"),
        ("pub fn main(){}\n" + ONE + "\n" + TESTS % "", "plain top-level `fn main() {`"),
        ("async fn main(){}\n" + ONE + "\n" + TESTS % "", "plain top-level `fn main() {`"),
        ("fn main() -> i32 { 0 }\n" + ONE + "\n" + TESTS % "", "plain top-level `fn main() {`"),
        ("mod m { fn main(){} }\n" + ONE + "\n" + TESTS % "", "plain top-level `fn main() {`"),
        (ONE + "\n" + TESTS % "", "plain top-level `fn main() {`"),
    ],
)
def test_programs_that_could_behave_otherwise_in_a_module_stay_out(source: str, reason: str):
    refused = rust_merged.ineligibility(source)
    assert refused is not None and reason in refused, refused


def test_merged_crate_wraps_each_program_in_its_own_module_and_records_its_lines():
    crate = rust_merged.merge({3: "fn a() {}\n", 7: "fn b() {}\n// no newline at the end"})
    assert crate.text.splitlines() == [
        "mod octopack_p0003 {",
        "fn a() {}",
        "}",
        "mod octopack_p0007 {",
        "fn b() {}",
        "// no newline at the end",
        "}",
    ]
    assert crate.lines == {3: (1, 3), 7: (4, 7)}
    assert rust_merged.test_filter(3) == "octopack_p0003::"
    output = "thread 'octopack_p0007::tests::t' panicked at batch.rs:6:5:\nassertion failed"
    assert rust_merged.localize(output, 7, 4) == "thread 'tests::t' panicked at main.rs:2:5:\nassertion failed"


# ------------------------------------------------------------------------------------------- diagnostics


def _diagnostic(message: str, *spans: dict, level: str = "error") -> str:
    return json.dumps(
        {
            "$message_type": "diagnostic",
            "message": message,
            "level": level,
            "spans": list(spans),
            "rendered": f"{level}: {message}\n",
        }
    )


def _span(line: int, primary: bool = True, file_name: str = "batch.rs", expansion: dict | None = None) -> dict:
    return {"file_name": file_name, "line_start": line, "is_primary": primary, "expansion": expansion}


LINES = {0: (1, 10), 4: (11, 20), 9: (21, 30)}


def test_errors_are_pinned_on_the_module_holding_their_primary_span():
    stderr = "\n".join(
        [
            _diagnostic("mismatched types", _span(5), _span(25, primary=False)),
            _diagnostic("unused variable", _span(14), level="warning"),
            _diagnostic("this arithmetic operation will overflow", _span(25)),
            _diagnostic("aborting due to 2 previous errors"),
            _diagnostic("For more information about this error, try `rustc --explain E0308`.", level="failure-note"),
        ]
    )
    assert rust_merged.error_owners(stderr, LINES) == {0, 9}
    assert "mismatched types" in rust_merged.rendered_errors(stderr)


def test_an_error_inside_a_foreign_macro_counts_where_the_macro_was_called():
    inner = _span(200, file_name="/rustc/library/core/src/macros/mod.rs", expansion={"span": _span(15)})
    assert rust_merged.error_owners(_diagnostic("can't compare", inner), LINES) == {4}


@pytest.mark.parametrize(
    "stderr",
    [
        _diagnostic("linking with `cc` failed"),  # no span at all
        _diagnostic("odd", _span(31)),  # a line outside every module
        _diagnostic("odd", _span(3, file_name="/elsewhere/lib.rs")),  # and no expansion leading back
    ],
)
def test_an_error_that_cannot_be_pinned_on_a_program_sends_everyone_single(stderr: str):
    assert rust_merged.error_owners(stderr, LINES) is None
    assert rust_merged.error_owners(_diagnostic("mismatched types", _span(5)) + "\n" + stderr, LINES) is None


@pytest.mark.parametrize(
    "stderr",
    ["", "error: internal compiler error: unexpected panic\n", _diagnostic("aborting due to 1 previous error")],
)
def test_a_failed_compile_with_no_error_pinned_sends_everyone_single(stderr: str):
    assert rust_merged.error_owners(stderr, LINES) is None


# ------------------------------------------------------------------------------------------- integration

HANG = Limits(compile_timeout=60, run_timeout=2)
STRESS: dict[str, tuple[str, Limits]] = {
    "passes with rand/regex/md5": (PROGRAMS["rust"]["passed"], QUICK),
    "failing assertion": (rust_program(ONE, "assert_eq!(f(), 2);"), QUICK),
    "panic in a helper": (rust_program("fn f() -> i32 { let v = vec![1]; v[3] }"), QUICK),
    "stack overflow": (
        rust_program(
            "fn f() -> i32 { deep(std::hint::black_box(100_000_000)) as i32 }\n"
            "fn deep(n: u64) -> u64 { if n == 0 { 1 } else { 1 + deep(n - 1) } }",
            "assert!(f() > 0);",
        ),
        QUICK,
    ),
    "infinite loop": (rust_program(ONE, "loop { std::hint::black_box(0); }"), HANG),
    "process::exit(0)": (rust_program(ONE, "assert_eq!(f(), 1); std::process::exit(0);"), QUICK),
    "type error": (rust_program('fn f() -> i32 { "text" }'), QUICK),
    "same names 1": (rust_program("fn f() -> i32 { 1 }\nfn add(a: i32, b: i32) -> i32 { a + b }"), QUICK),
    "same names 2": (rust_program("fn f() -> i32 { 2 }\nfn add(a: i32, b: i32) -> i32 { a - b }"), QUICK),
    "no tests": ("fn main(){}\nfn f() -> i32 { 1 }\n", QUICK),
    "inner attribute": ("#![allow(dead_code)]\n" + rust_program(ONE), QUICK),
    "deny-by-default lint": (rust_program("fn f() -> i32 { let x: u8 = 255 + 1; x as i32 }"), QUICK),
    "top-level super": (rust_program(ONE + "\nuse super::*;"), QUICK),
    "should_panic passes": (
        rust_program(ONE) + '#[test]\n#[should_panic]\nfn top_level() { panic!("expected") }\n',
        QUICK,
    ),
    # fine alone, but the impl below makes its `==` ambiguous in the merged crate: it must leave and pass alone
    "inference": (rust_program(ONE, 'let y = "1".parse().unwrap(); assert!(f() == y);'), QUICK),
    "impl breaking inference": (
        rust_program(
            "pub struct Local;\nimpl PartialEq<Local> for i32 { fn eq(&self, _: &Local) -> bool { true } }\n"
            "fn f() -> i32 { 1 }",
            "assert!(f() == Local);",
        ),
        QUICK,
    ),
}
EXPECTED = {
    "passes with rand/regex/md5": "passed",
    "failing assertion": "failed",
    "panic in a helper": "failed",
    "stack overflow": "failed",
    "infinite loop": "timeout",
    "process::exit(0)": "passed",
    "type error": "compile_error",
    "same names 1": "passed",
    "same names 2": "failed",
    "no tests": "passed",
    "inner attribute": "passed",
    "deny-by-default lint": "compile_error",
    "top-level super": "compile_error",
    "should_panic passes": "passed",
    "inference": "passed",
    "impl breaking inference": "passed",
}


class Recording:
    """The real sandbox, remembering every command line it ran."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def run(self, argv, **kwargs):
        self.calls.append(list(argv))
        if argv[-1] == "manifest.json":  # the batch server (exec_batch): record the commands it will run
            manifest = json.loads((kwargs["workdir"] / "manifest.json").read_text())
            self.calls += [job["argv"] for job in manifest["programs"]]
        return self.inner.run(argv, **kwargs)

    def compiles(self, kind: str) -> int:
        """rustc runs of one kind: "--test" (the test build) or "--emit=metadata" (the check as a binary)."""
        return sum(1 for argv in self.calls if argv[0].endswith("rustc") and kind in argv)

    def merged_runs(self) -> list[int]:
        """The programs the merged binary ran, by position."""
        prefix = rust_merged.MODULE_PREFIX
        return [int(argv[1][len(prefix) : -2]) for argv in self.calls if argv[1:2] and argv[1].startswith(prefix)]


def test_a_merged_batch_decides_like_single_runs(workdir, sandbox, cache_dir):  # noqa: F811 (fixtures)
    rust = get_language("rust")
    programs = [Program("rust", source, limits) for source, limits in STRESS.values()]
    assert len(programs) <= 64  # one chunk, as the local backend sends
    recording, reported = Recording(sandbox), {}
    batched = rust.execute_batch(
        programs, workdir, recording, cache_dir, on_verdict=lambda i, v: reported.setdefault(i, v.status)
    )
    singles = []
    for index, program in enumerate(programs):
        single_dir = workdir / f"alone{index}"
        single_dir.mkdir()
        singles.append(rust.execute(program, single_dir, sandbox, cache_dir))
    table = {name: (b.status, s.status) for name, b, s in zip(STRESS, batched, singles, strict=True)}
    assert all(b == s for b, s in table.values()), table
    assert {name: b for name, (b, _) in table.items()} == EXPECTED, table
    assert reported == {i: v.status for i, v in enumerate(batched)}
    # who stayed in the merged crate: all but the two refused and the three that did not compile there
    left = {"inner attribute", "top-level super", "type error", "deny-by-default lint", "inference"}
    assert sorted(recording.merged_runs()) == [i for i, name in enumerate(STRESS) if name not in left]
    # the merged crate checked and built twice; alone, every program that left is checked, and those that pass
    # the check are built: the inner attribute, the inference, and the lint (as `cargo check`, the check does not
    # see an overflow in a function that only the tests call)
    assert recording.compiles("--emit=metadata") == 2 + len(left)
    assert recording.compiles("--test") == 2 + 3
    failing = batched[list(STRESS).index("failing assertion")]
    assert "octopack_p" not in failing.detail and "batch.rs" not in failing.detail, failing.detail
    assert "main.rs:7:" in failing.detail  # its own line numbers


def test_a_batch_without_compile_errors_compiles_once_and_shares_the_compile_time(workdir, sandbox, cache_dir):  # noqa: F811
    rust, recording = get_language("rust"), Recording(sandbox)
    sources = [rust_program(ONE), rust_program(ONE, "assert_eq!(f(), 2);"), "fn main(){}\nfn f() -> i32 { 1 }\n"]
    verdicts = rust.execute_batch([Program("rust", s, QUICK) for s in sources], workdir, recording, cache_dir)
    assert [v.status for v in verdicts] == ["passed", "failed", "passed"]
    assert recording.compiles("--emit=metadata") == recording.compiles("--test") == 1
    assert recording.merged_runs() == [0, 1, 2]
    assert all(v.seconds > 0 for v in verdicts)


def test_a_program_whose_own_compile_budget_the_crate_overran_goes_single(workdir, sandbox, cache_dir):  # noqa: F811
    # the crate compiled within the widest budget, but not within this program's: alone it may time out
    tight = Limits(compile_timeout=0.05, run_timeout=3)
    programs = [Program("rust", rust_program(ONE), QUICK), Program("rust", rust_program(ONE), QUICK)]
    programs.append(Program("rust", rust_program(ONE), tight))
    recording = Recording(sandbox)
    verdicts = get_language("rust").execute_batch(programs, workdir, recording, cache_dir)
    (workdir / "alone").mkdir()
    single = get_language("rust").execute(programs[2], workdir / "alone", sandbox, cache_dir)
    assert [v.status for v in verdicts] == ["passed", "passed", "timeout"] and single.status == "timeout"
    assert recording.merged_runs() == [0, 1]


# compiles only under cfg(test): `cargo check --bin test` fails it in the reference, before any test runs
CFG_TEST_ONLY = {
    "helper only under cfg(test)": rust_program("#[cfg(test)]\nfn g() -> i32 { 1 }\nfn f() -> i32 { g() }"),
    "type only under cfg(test)": rust_program("#[cfg(test)]\nstruct S;\nfn f() -> i32 { let _s = S; 1 }"),
    "main only under cfg(test)": "#[cfg(test)]\nfn main(){}\n" + ONE + "\n" + TESTS % "assert_eq!(f(), 1);",
    "no main at all": ONE + "\n" + TESTS % "assert_eq!(f(), 1);",
    "passes": rust_program(ONE),
    "fails": rust_program(ONE, "assert_eq!(f(), 2);"),
    "cfg(not(test)) error": rust_program(ONE + '\n#[cfg(not(test))]\nfn g() -> i32 { "text" }'),
}


def test_programs_that_compile_only_under_cfg_test_fail_batched_and_alone(workdir, sandbox, cache_dir):  # noqa: F811
    rust, recording = get_language("rust"), Recording(sandbox)
    programs = [Program("rust", source, QUICK) for source in CFG_TEST_ONLY.values()]
    batched = rust.execute_batch(programs, workdir, recording, cache_dir)
    singles = []
    for index, program in enumerate(programs):
        (workdir / f"alone{index}").mkdir()
        singles.append(rust.execute(program, workdir / f"alone{index}", sandbox, cache_dir))
    table = {name: (b.status, s.status) for name, b, s in zip(CFG_TEST_ONLY, batched, singles, strict=True)}
    expected = {name: "compile_error" for name in CFG_TEST_ONLY} | {"passes": "passed", "fails": "failed"}
    assert table == {name: (status, status) for name, status in expected.items()}, table
    assert "cannot find function `g`" in batched[0].detail and "main.rs:" in batched[0].detail
    assert "`main` function not found" in singles[2].detail
    # the test crate built at once (only the check failed three of its programs): they left without a rebuild
    assert recording.merged_runs() == [4, 5]
    assert recording.compiles("--test") == 1 + 0  # the merged crate; alone, no program passed its check
    assert recording.compiles("--emit=metadata") == 1 + 5


def test_batch_compile_limits_take_the_widest_budget_and_the_tightest_resources():
    from lm_eval_octopack.executors.runtime.merged.engine import compile_limits

    limits = compile_limits([Limits(compile_timeout=30, memory_mb=4096), Limits(compile_timeout=90, memory_mb=1024)])
    assert limits.compile_timeout == 90 and limits.memory_mb == 1024 and limits.max_output_bytes >= 1 << 20


def test_a_parse_error_that_stops_rustc_early_still_gives_single_verdicts(workdir, sandbox, cache_dir):  # noqa: F811
    # rustc stops after "expected item after attributes", so the second program's error only shows on the
    # second compile: everything left goes single, with the verdicts of the single path.
    sources = [rust_program(ONE) + "#[derive(Debug)]\n", rust_program(ONE) + "/// dangling doc\n", rust_program(ONE)]
    recording = Recording(sandbox)
    verdicts = get_language("rust").execute_batch(
        [Program("rust", s, QUICK) for s in sources], workdir, recording, cache_dir
    )
    assert [v.status for v in verdicts] == ["compile_error", "compile_error", "passed"]
    assert recording.merged_runs() == []


# --------------------------------------------------------------------------------------------- real data

FLAKY_CANONICAL = {32}  # Rust/32 canonical hangs in about half of all runs (execution.md)


@pytest.mark.slow
def test_real_programs_get_the_same_verdicts_batched_and_alone(humanevalpack_dir, sandbox, cache_dir, tmp_path):  # noqa: F811
    from lm_eval_octopack.humanevalpack.assemble import assemble_programs

    docs = [json.loads(line) for line in (humanevalpack_dir / "rust.jsonl").read_text().splitlines()[:20]]
    limits = Limits(compile_timeout=60, run_timeout=5)
    programs, names = [], []
    for doc in docs:
        canonical, buggy = assemble_programs(
            doc, "rust", [doc["prompt"] + doc["canonical_solution"], doc["prompt"] + doc["buggy_solution"]]
        )
        if int(doc["task_id"].split("/")[1]) not in FLAKY_CANONICAL:
            programs.append(Program("rust", canonical, limits))
            names.append(f"{doc['task_id']} canonical")
        programs.append(Program("rust", buggy, limits))
        names.append(f"{doc['task_id']} buggy")
    rust = get_language("rust")
    batch_dir, single_dir = tmp_path / "batched", tmp_path / "single"
    batch_dir.mkdir()
    single_dir.mkdir()
    batched = execute_in_chunks(rust, programs, batch_dir, sandbox, cache_dir)
    singles = []
    for index, program in enumerate(programs):
        alone = single_dir / f"p{index}"
        alone.mkdir()
        singles.append(rust.execute(program, alone, sandbox, cache_dir))
    different = [
        (n, b.status, s.status) for n, b, s in zip(names, batched, singles, strict=True) if b.status != s.status
    ]
    assert not different, different
    assert all(rust_merged.eligible(p.source) for p in programs)
    assert sum(v.passed for v in batched) >= len(docs) - 1  # the canonical solutions
