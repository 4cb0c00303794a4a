"""The compiled-language executors (java, go, cpp, rust) through the real sandbox and real toolchains.

Per language: a passing program, a failing one, a compile error (with a useful excerpt) and a timeout; batch
execution must give the same verdicts as one-by-one execution. On the real HumanEvalPack data (slow): canonical
solutions pass and buggy ones fail, with the known exceptions of the spec.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from lm_eval_octopack.executors.registry import get_language
from lm_eval_octopack.executors.runtime.language import SandboxRunner
from lm_eval_octopack.executors.store import default_cache_dir
from lm_eval_octopack.executors.types import Limits, Program, Verdict

COMPILED = ("cpp", "java", "go", "rust")
QUICK = Limits(compile_timeout=60, run_timeout=3)
DATA_DIR = Path(os.environ.get("OCTOPACK_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))

GO_HEADER = 'package main\n\nimport (\n    "testing"\n    "github.com/stretchr/testify/assert"\n)\n\n'
RUST_TESTS = "fn main(){}\n#[cfg(test)]\nmod tests {\n    use super::*;\n    #[test]\n    fn t() { %s }\n}\n"

PROGRAMS: dict[str, dict[str, str]] = {
    "cpp": {
        "passed": '#include<assert.h>\n#include<string>\nint main(){ std::string s = "ab"; assert(s.size() == 2); }\n',
        "failed": "#include<assert.h>\nint main(){ assert(1 + 1 == 3); }\n",
        "compile_error": "int main(){ return undefined_name; }\n",
        "timeout": "int main(){ volatile int x = 0; while (true) { x++; } }\n",
    },
    "java": {
        "passed": "public class Main { public static void main(String[] a) { if (1 + 1 != 2) throw new AssertionError(); } }",
        "failed": "public class Main { public static void main(String[] a) { throw new AssertionError(); } }",
        "compile_error": "public class Main { public static void main(String[] a) { int x = undefined_name; } }",
        "timeout": "public class Main { public static void main(String[] a) { while (true) { } } }",
    },
    "go": {
        "passed": GO_HEADER + "func TestA(t *testing.T) { assert := assert.New(t); assert.Equal(2, 1+1) }\n",
        "failed": GO_HEADER + "func TestA(t *testing.T) { assert := assert.New(t); assert.Equal(3, 1+1) }\n",
        "compile_error": GO_HEADER + "func TestA(t *testing.T) { assert := assert.New(t); x := 1 }\n",
        "timeout": GO_HEADER + "func TestA(t *testing.T) { assert.New(t); for { } }\n",
    },
    "rust": {
        "passed": "use rand::Rng;\nuse regex::Regex;\nuse md5;\n"
        + RUST_TESTS
        % 'let _ = rand::thread_rng().gen_range(0, 3); assert!(Regex::new("a+").unwrap().is_match("aa")); '
        'assert_eq!(format!("{:x}", md5::compute(b"")), "d41d8cd98f00b204e9800998ecf8427e");',
        "failed": RUST_TESTS % "assert_eq!(1 + 1, 3);",
        "compile_error": RUST_TESTS % 'let x: i32 = "text";',
        "timeout": RUST_TESTS % "loop { std::hint::black_box(0); }",
    },
}
COMPILE_ERROR_MARK = {"cpp": "undefined_name", "java": "undefined_name", "go": "declared and not used", "rust": "E0308"}


@pytest.fixture(scope="module")
def cache_dir() -> Path:
    """The shared toolchain cache (prepared once; Go and Rust dependencies are built there)."""
    path = default_cache_dir()
    for name in COMPILED:
        language = get_language(name)
        language.prepare(path)
        report = language.check(path)
        if not report.ok:
            pytest.fail(f"{name} toolchain incomplete: missing {report.missing}; {report.how_to_install}")
    return path


@pytest.fixture
def workdir(cache_dir: Path) -> Iterator[Path]:
    scratch = cache_dir / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="test-", dir=scratch))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def run(language: str, source: str, workdir: Path, sandbox: SandboxRunner, cache_dir: Path) -> Verdict:
    return get_language(language).execute(Program(language, source, QUICK), workdir, sandbox, cache_dir)


@pytest.mark.parametrize("language", COMPILED)
@pytest.mark.parametrize("expected", ["passed", "failed", "compile_error", "timeout"])
def test_tiny_programs_get_their_verdict(language, expected, workdir, sandbox, cache_dir):
    verdict = run(language, PROGRAMS[language][expected], workdir, sandbox, cache_dir)
    assert verdict.status == expected, verdict.detail
    if expected == "compile_error":
        assert COMPILE_ERROR_MARK[language] in verdict.detail
    if expected == "timeout":
        assert verdict.seconds >= QUICK.run_timeout - 0.5


@pytest.mark.parametrize("language", ["java", "go"])
def test_batch_gives_the_same_verdicts_as_single_runs(language, workdir, sandbox, cache_dir):
    order = ["passed", "compile_error", "failed", "passed", "timeout"]
    programs = [Program(language, PROGRAMS[language][status], QUICK) for status in order]
    verdicts = get_language(language).execute_batch(programs, workdir, sandbox, cache_dir)
    assert [v.status for v in verdicts] == order, [v.detail for v in verdicts]


def test_go_vet_findings_fail_like_the_reference(workdir, sandbox, cache_dir):
    # `go test` runs vet's printf check; the reference therefore fails this program, so must we.
    source = GO_HEADER.replace('"testing"', '"testing"\n    "fmt"') + (
        'func TestA(t *testing.T) { assert.New(t); _ = fmt.Sprintf("%d", "text") }\n'
    )
    verdict = run("go", source, workdir, sandbox, cache_dir)
    assert verdict.status == "compile_error"
    assert "Sprintf" in verdict.detail


def test_cpp_precompiled_header_is_used_only_with_all_helper_includes():
    from lm_eval_octopack.executors.languages.cpp import HELPER_HEADERS, includes_all_helpers

    full = "using namespace std;\n" + "".join(f"#include<{name}>\n" for name in HELPER_HEADERS) + "int main(){}\n"
    assert includes_all_helpers(full)
    assert not includes_all_helpers(full.replace("#include<boost/any.hpp>\n", ""))


def test_check_reports_versions_and_install_hints(cache_dir):
    for name in COMPILED:
        report = get_language(name).check(cache_dir)
        assert report.found, name
        assert report.how_to_install, name


# --------------------------------------------------------------------------------------------- real data

# Known facts (specs/humanevalpack.md §10, execution.md §4.2): these deviate from "canonical passes, buggy fails".
CANONICAL_FAILS = {"go": {27}}
BUGGY_PASSES = {"cpp": {23}}
FLAKY = {"rust": {32}, "go": {95}}
SAMPLED_PROBLEMS = 24


def execute_in_chunks(language, programs: list[Program], workdir: Path, sandbox, cache_dir: Path) -> list[Verdict]:
    """``execute_batch`` over chunks of the language's ``batch_size``, as the local backend sends them (a language
    merges a whole chunk: chunking is the backend's)."""
    verdicts = []
    for start in range(0, len(programs), language.batch_size):
        chunk_dir = workdir / f"chunk{start:05d}"
        chunk_dir.mkdir()
        verdicts += language.execute_batch(programs[start : start + language.batch_size], chunk_dir, sandbox, cache_dir)
    return verdicts


def _load_docs(language: str) -> list[dict]:
    path = DATA_DIR / "humanevalpack" / f"{language}.jsonl"
    if not path.is_file():
        pytest.skip(f"HumanEvalPack data not found at {path} (set OCTOPACK_SHARED_DATA)")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _sample(docs: list[dict], language: str) -> list[dict]:
    special = CANONICAL_FAILS.get(language, set()) | BUGGY_PASSES.get(language, set())
    rest = [i for i in range(len(docs)) if i not in special and i not in FLAKY.get(language, set())]
    chosen = sorted(special | set(random.Random(language).sample(rest, SAMPLED_PROBLEMS)))
    return [docs[i] for i in chosen]


@pytest.mark.slow
@pytest.mark.parametrize("language", COMPILED)
def test_reference_solutions_on_real_data(language, sandbox, cache_dir, tmp_path):
    from lm_eval_octopack.humanevalpack.assemble import assemble_programs

    docs = _sample(_load_docs(language), language)
    limits = Limits(compile_timeout=60, run_timeout=5)
    programs, expected = [], []
    for doc in docs:
        index = int(doc["task_id"].split("/")[1])
        canonical, buggy = assemble_programs(
            doc, language, [doc["prompt"] + doc["canonical_solution"], doc["prompt"] + doc["buggy_solution"]]
        )
        programs += [Program(language, canonical, limits), Program(language, buggy, limits)]
        expected += [index not in CANONICAL_FAILS.get(language, set()), index in BUGGY_PASSES.get(language, set())]
    verdicts = execute_in_chunks(get_language(language), programs, tmp_path, sandbox, cache_dir)
    wrong = [
        (doc["task_id"], kind, verdict.status, verdict.detail[:300])
        for position, (verdict, want) in enumerate(zip(verdicts, expected, strict=True))
        for doc, kind in [(docs[position // 2], ("canonical", "buggy")[position % 2])]
        if verdict.passed != want
    ]
    assert not wrong, wrong


def java_main(helper: str, check: str) -> str:
    return f"{helper}\npublic class Main {{ public static void main(String[] a) {{ if (!({check})) throw new AssertionError(); }} }}"


def test_java_batch_compiler_forgets_each_programs_classes(workdir, sandbox, cache_dir):
    # One warm javac compiles the whole batch: a class one program declares must not exist for the next one.
    helper_one = "class Helper { static int value() { return 1; } }"
    helper_two = "class Helper { static int value() { return 2; } }"
    sources = [
        java_main(helper_one, "Helper.value() == 1"),
        java_main("", "Helper.value() == 1"),  # uses the previous program's class: javac must not find it
        java_main(helper_two, "Helper.value() == 2"),  # redeclares it: no duplicate, no stale body
        java_main("class Helper { static int value() { return undefined_name; } }", "true"),
        java_main(helper_one, "Helper.value() == 1"),  # after a failed compile
    ]
    programs = [Program("java", source, QUICK) for source in sources]
    verdicts = get_language("java").execute_batch(programs, workdir, sandbox, cache_dir)
    assert [v.status for v in verdicts] == ["passed", "compile_error", "passed", "compile_error", "passed"], [
        v.detail for v in verdicts
    ]
    assert "Helper" in verdicts[1].detail


def test_java_batch_compiler_keeps_javac_warm_through_its_task_pool(workdir, cache_dir):
    import subprocess

    from lm_eval_octopack.executors.languages import java

    javac = shutil.which("javac")
    driver = java._driver_dir(cache_dir, javac) / java.DRIVER_JAR
    dirs = []
    for index in range(2):
        (workdir / f"p{index}").mkdir()
        (workdir / f"p{index}" / "Main.java").write_text(PROGRAMS["java"]["passed"])
        dirs.append(f"p{index}")
    argv = [shutil.which("java"), java.TASK_POOL_EXPORT, "-cp", str(driver), "BatchCompile", *dirs]
    done = subprocess.run(argv, cwd=workdir, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "task pool is not available" not in done.stderr
    for name in dirs:
        assert (workdir / name / ".javac_result").read_text().startswith("ok")
        assert (workdir / name / "Main.class").is_file()
