"""Go: the reference runs ``go test -timeout=20s main_test.go`` with testify resolvable; pass = exit 0.

``prepare`` creates a module (``go 1.18`` as in the reference toolchain, testify v1.8.0) in the cache dir, downloads
it once and warms a shared build cache by testing a program that imports every helper package. Execution is
offline (``GOPROXY=off``) and reads that cache read-only; ``go test`` still runs its default ``vet`` subset, because
vet findings (e.g. printf misuse) fail ``go test`` in the reference too.

``execute_batch`` links a batch into ONE test binary (``go_merged``): the rename tool (built by ``prepare``)
renames each program's package-level names apart so that several share a package, one ``go vet`` over those
packages with ``go test``'s own analyzers (what it names is a compile error, as in ``go test``), one ``go test -c``
of the packages plus a driver, then one fresh process per program, filtered to its tests and
started through one shared sandbox (``_GoBuild``, its strategy for the merged-build engine); its verdict is its exit status, as ``go test`` decides it.
Any program without a clear result there is re-run alone, the reference way.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ..errors import ExecutionInfrastructureError
from ..runtime.compiled import existing, find_tool, reported_path, sandbox_env, tool_output
from ..runtime.exec_batch import Command
from ..runtime.language import (
    BatchVerdicts,
    CommandResult,
    Language,
    OnVerdict,
    SandboxRunner,
    ToolReport,
)
from ..runtime.merged import go as go_merged
from ..runtime.merged.engine import (
    BuildResult,
    MergedBuild,
    compile_budget,
    compile_limits,
    merged_batch_size,
    merging_enabled,
    run_merged,
)
from ..runtime.prepare_lock import exclusive, private_name
from ..types import Limits, Program, Verdict, excerpt

SUPPORT_DIR = Path(__file__).with_name("go_support")
GO_DIRS = ("/usr/local/go/bin", "/usr/lib/go/bin")
MODULE = "humanEval"
INSTALL_HINT = "install Go >= 1.21 from https://go.dev/dl (or `apt-get install golang-go`); the Go module proxy is needed once, by setup"
TIMEOUT_MARK = "panic: test timed out after"
RUN_MARGIN_SECONDS = 2.0  # a merged run's own -test.timeout fires first, as go test's does alone
VET_FLAGS_FILE = "vet-flags.txt"  # the analyzers `go test` runs, as this toolchain prints them
SETUP_HINT = "run `lm-eval-octopack setup go`"
_READ_ONLY_WRITE = re.compile(r"open (\S+): read-only file system")


class GoLanguage(Language):
    name = "go"

    def toolchain_roots(self) -> list[Path]:
        return reported_path([find_tool("go", GO_DIRS) or "go", "env", "GOROOT"])

    def check(self, cache_dir: Path) -> ToolReport:
        report = ToolReport(language=self.name, ok=True, how_to_install=INSTALL_HINT)
        go = find_tool("go", GO_DIRS)
        if go is None:
            report.missing.append("go")
        else:
            report.found["go"] = tool_output([go, "version"])
            stale = _stale_dependencies(cache_dir, go) if _ready(cache_dir, go) else None
            if stale == []:
                report.found["testify"] = str(_module_dir(cache_dir, go))
                shared = _renamer_built(cache_dir, go)
                report.found["shared packages"] = "on (rename tool built)" if shared else f"off: {SETUP_HINT}"
            elif stale is None:
                report.missing.append("testify module + warm build cache (run prepare)")
            else:
                report.missing.append(f"a warm Go build cache: {', '.join(stale)} would be rebuilt ({SETUP_HINT})")
        report.ok = not report.missing
        return report

    def prepare(self, cache_dir: Path) -> None:
        """Download testify and warm the build cache, once per cache (concurrent setups take turns); again when
        the cache would rebuild dependencies (e.g. a cache copied to another path), which the read-only
        cache of the sandbox cannot."""
        go = find_tool("go", GO_DIRS)
        if go is None:
            return
        module = _module_dir(cache_dir, go)
        with exclusive(module.with_name(module.name + ".lock")):
            if not _ready(cache_dir, go) or _stale_dependencies(cache_dir, go):
                self._warm(cache_dir, go)
            if not _renamer_built(cache_dir, go):
                _build_renamer(cache_dir, go)

    def _warm(self, cache_dir: Path, go: str) -> None:
        module = _module_dir(cache_dir, go)
        module.mkdir(parents=True, exist_ok=True)
        _write_atomically(module / "go.mod", (SUPPORT_DIR / "go.mod.txt").read_text())
        env = {**_go_env(cache_dir, go, module), "GOPROXY": os.environ.get("GOPROXY", "https://proxy.golang.org")}
        env["GOFLAGS"] = "-mod=mod"
        with tempfile.TemporaryDirectory() as scratch:
            shutil.copyfile(SUPPORT_DIR / "warm_test.go", Path(scratch) / "warm_test.go")
            for name in ("go.mod",):
                shutil.copyfile(module / name, Path(scratch) / name)
            for argv in (["mod", "tidy"], ["test", "-count=1", "./..."]):
                done = subprocess.run([go, *argv], cwd=scratch, env=env, capture_output=True, text=True, timeout=1800)
                if done.returncode != 0:
                    raise RuntimeError(f"go {' '.join(argv)} failed while preparing Go:\n{done.stderr[-3000:]}")
            for name in ("go.mod", "go.sum"):
                _write_atomically(module / name, (Path(scratch) / name).read_text())
            flags = _test_vet_flags(go, scratch, env)
            # go vet keeps its analysis facts apart from go test's: warm them too, for the batch vet step.
            done = subprocess.run(
                [go, "vet", *flags, "."], cwd=scratch, env=env, capture_output=True, text=True, timeout=1800
            )
            if done.returncode != 0:
                raise RuntimeError(f"go vet failed while preparing Go:\n{done.stderr[-3000:]}")
        _write_atomically(module / VET_FLAGS_FILE, " ".join(flags))
        _write_atomically(module / "READY", tool_output([go, "version"]))

    def execute(self, program: Program, workdir: Path, sandbox: SandboxRunner, cache_dir: Path) -> Verdict:
        go = find_tool("go", GO_DIRS)
        if go is None or not _ready(cache_dir, go):
            return Verdict("error", "Go toolchain or prepared testify module missing: run prepare")
        _write_module_files(cache_dir, go, workdir)
        (workdir / "main_test.go").write_text(program.source, encoding="utf-8")
        argv = [go, "test", f"-timeout={_seconds(program.limits.run_timeout)}", "main_test.go"]
        # go test compiles and runs in one command: its budget is both.
        budget = program.limits.compile_timeout + program.limits.run_timeout
        result = _run_go(argv, workdir, sandbox, cache_dir, go, program.limits, budget)
        _raise_if_cache_unusable(result, cache_dir, go)
        return _single_verdict(result)

    @property
    def batch_size(self) -> int:
        return merged_batch_size(self.name)

    def execute_batch(
        self,
        programs: Sequence[Program],
        workdir: Path,
        sandbox: SandboxRunner,
        cache_dir: Path,
        on_verdict: OnVerdict | None = None,
    ) -> list[Verdict]:
        go = find_tool("go", GO_DIRS)
        if go is None or not _ready(cache_dir, go):
            return [Verdict("error", "Go toolchain or prepared testify module missing: run prepare") for _ in programs]
        verdicts = BatchVerdicts(on_verdict)
        if merging_enabled(self.name):
            tests = {i: go_merged.test_functions(p.source) for i, p in enumerate(programs)}
            joining = {i: program for i, program in enumerate(programs) if tests[i]}
            run_merged(
                [joining],
                lambda batch_dir: _GoBuild(batch_dir, go, cache_dir, sandbox, tests),
                workdir,
                sandbox,
                verdicts.decide,
            )
        # no clear answer from the batch: the reference-shaped single run decides
        return verdicts.finish_alone(self, programs, workdir, sandbox, cache_dir)


class _GoBuild(MergedBuild):
    """The programs renamed apart into shared packages, one ``go vet`` with go test's analyzers over those packages
    (what it names is a compile error, as in ``go test``), then one ``go test -c`` of the packages plus a driver;
    programs whose package initialisation would run in every program's process leave and the rest is linked
    again."""

    rerun_alone = False  # a run the shared sandbox did not report is left to go test alone

    def __init__(
        self, directory: Path, go: str, cache_dir: Path, sandbox: SandboxRunner, tests: dict[int, list[str] | None]
    ):
        super().__init__(directory)
        self.go, self.cache_dir, self.sandbox, self.tests = go, cache_dir, sandbox, tests
        self.vetted = False
        self.renamed: dict[int, str] = {}  # program -> its source with its package-level names renamed apart
        self.packages: list[list[int]] = []
        _write_module_files(cache_dir, go, directory)
        self.module_files = {name: (directory / name).read_text() for name in ("go.mod", "go.sum")}

    def build(self, members: dict[int, Program]) -> BuildResult:
        if not self.vetted:  # the first build renames and vets every program once; later ones only link again
            self.vetted = True
            renaming = self._rename(members)
            self.packages = go_merged.shared_packages(list(members), set(self.renamed))
            vetted = self._vet(members)
            vetted.seconds += renaming
            if vetted.leaving is None or vetted.leaving or vetted.decided:
                return vetted
        return self._link(members)

    def _rename(self, programs: dict[int, Program]) -> float:
        """``self.renamed`` from the rename tool, for the programs it accepts (none when it is not built: a cache
        prepared by an earlier version); the seconds it took."""
        if not _renamer_built(self.cache_dir, self.go) or len(programs) < 2:
            return 0.0
        tool, exports = _renamer(self.cache_dir, self.go)
        folder = self.dir / "rename"
        folder.mkdir()
        for index, program in programs.items():
            (folder / go_merged.rename_input(index)).write_text(program.source, encoding="utf-8")
        result = self._go([str(tool), str(exports), folder.name], programs)
        if result.returncode == 0 and not result.timed_out:
            for index in programs:
                renamed = folder / go_merged.rename_output(index)
                if renamed.is_file():
                    self.renamed[index] = renamed.read_text(encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        return result.seconds

    def _source(self, index: int, program: Program) -> str:
        return self.renamed.get(index, program.source)

    def _vet(self, programs: dict[int, Program]) -> BuildResult:
        """A compile error for each program vet names (``go test`` fails those the same way); output it cannot
        attribute decides nothing; a type error in a shared package sends that package's programs alone."""
        for package in self.packages:
            folder = self.dir / go_merged.vet_dir_name(package[0])
            folder.mkdir()
            for index in package:
                source = self._source(index, programs[index])
                (folder / go_merged.vet_file(index)).write_text(source, encoding="utf-8")
        folders = [f"./{go_merged.vet_dir_name(package[0])}" for package in self.packages]
        result = self._go([self.go, "vet", *_vet_flags(self.cache_dir, self.go), *folders], programs)
        if result.returncode == 0 and not result.timed_out:
            return BuildResult(result.seconds, built=False)
        findings = go_merged.vet_findings(result.stdout + result.stderr, list(programs))
        if findings is None or result.timed_out or result.returncode != 1:
            return BuildResult.unclear(result.seconds)
        leaving = set()
        for package in self.packages:
            if len(package) > 1 and any(go_merged.is_type_error(findings.get(i, "")) for i in package):
                leaving.update(package)  # renamed apart, each type-checked alone: the merge is to blame
        share = result.seconds / len(programs)
        decided = {i: Verdict("compile_error", text, share) for i, text in findings.items() if i not in leaving}
        return BuildResult(result.seconds, built=False, leaving=leaving, decided=decided)

    def _link(self, members: dict[int, Program]) -> BuildResult:
        for stale in self.dir.glob(f"{go_merged.PACKAGE_PREFIX}*"):  # an earlier link's packages
            shutil.rmtree(stale)
        entries = []
        linked = [kept for kept in ([i for i in package if i in members] for package in self.packages) if kept]
        for package in linked:
            name = go_merged.package_name(package[0])
            (self.dir / name).mkdir(exist_ok=True)
            for index in package:
                source = go_merged.as_package(self._source(index, members[index]), name)
                (self.dir / name / go_merged.program_file(index)).write_text(source, encoding="utf-8")
                suffix = go_merged.rename_suffix(index) if index in self.renamed else ""
                entries.append(go_merged.DriverEntry(index, self.tests[index] or [], package[0], suffix))
        (self.dir / go_merged.DRIVER_FILE).write_text(go_merged.driver_source(entries, MODULE), encoding="utf-8")
        (self.dir / "batch.test").unlink(missing_ok=True)
        built = self._go([self.go, "test", "-c", "-vet=off", "-o", "batch.test", "."], members)
        if built.timed_out or built.returncode != 0:
            return BuildResult.unclear(built.seconds)
        numbers = [package[0] for package in linked]
        initializing = go_merged.initializing_packages((self.dir / "batch.test").read_bytes(), MODULE, numbers)
        if initializing is None:
            return BuildResult.unclear(built.seconds)
        leaving = {i for package in linked if package[0] in initializing for i in package}
        return BuildResult(built.seconds, built=not leaving, leaving=leaving)

    def command(self, index: int, program: Program) -> Command:
        """The binary filtered to the program's tests, in a directory shaped like its single run's."""
        argv = [
            str(self.dir / "batch.test"),
            go_merged.test_filter(index),
            "-test.paniconexit0",
            f"-test.timeout={_seconds(program.limits.run_timeout)}",
        ]
        return Command(
            argv, program.limits.run_timeout + RUN_MARGIN_SECONDS, {"main_test.go": program.source, **self.module_files}
        )

    def env(self, run_dir: Path) -> dict[str, str]:
        return _go_env(self.cache_dir, self.go, run_dir)

    def read_only_paths(self) -> list[Path]:
        return [self.dir / "batch.test"]

    def verdict(self, index: int, ran: CommandResult, build_share: float) -> Verdict | None:
        if ran.timed_out:  # output held open past the binary's own deadline (a child holding stdout):
            return None  # go test alone decides, which waits only 5 s for it (its WaitDelay), then fails it
        ran = replace(
            ran, stdout=go_merged.localize(ran.stdout or "", index), stderr=go_merged.localize(ran.stderr or "", index)
        )
        verdict = _single_verdict(ran)
        return replace(verdict, seconds=verdict.seconds + build_share)

    def _go(self, argv: list[str], programs: dict[int, Program]) -> CommandResult:
        all_limits = [p.limits for p in programs.values()]
        return _run_go(
            argv,
            self.dir,
            self.sandbox,
            self.cache_dir,
            self.go,
            compile_limits(all_limits),
            compile_budget(all_limits),
        )


def _renamer(cache_dir: Path, go: str) -> tuple[Path, Path]:
    """The rename tool (named after its source, so that a changed one is built again) and the export data it
    type-checks programs against (``import/path=file`` lines)."""
    module = _module_dir(cache_dir, go)
    return module / f"rename-{_renamer_digest()}", module / "exports.txt"


def _renamer_built(cache_dir: Path, go: str) -> bool:
    return all(path.is_file() for path in _renamer(cache_dir, go))


@functools.cache
def _renamer_digest() -> str:
    return hashlib.sha256((SUPPORT_DIR / "rename.go").read_bytes()).hexdigest()[:12]


def _build_renamer(cache_dir: Path, go: str) -> None:
    """Builds the rename tool and lists the export data of every package a warmed program can import."""
    tool, exports = _renamer(cache_dir, go)
    module = _module_dir(cache_dir, go)
    env = _go_env(cache_dir, go, module)
    with tempfile.TemporaryDirectory() as scratch:
        shutil.copyfile(SUPPORT_DIR / "warm_test.go", Path(scratch) / "warm_test.go")
        _write_module_files(cache_dir, go, Path(scratch))
        template = "{{if .Export}}{{.ImportPath}}={{.Export}}{{end}}"
        steps = {
            "build": [go, "build", "-o", str(private_name(tool)), str(SUPPORT_DIR / "rename.go")],
            "list": [go, "list", "-test", "-export", "-deps", "-f", template, "."],
        }
        done = {}
        for step, argv in steps.items():
            done[step] = subprocess.run(argv, cwd=scratch, env=env, capture_output=True, text=True, timeout=600)
            if done[step].returncode != 0:
                raise RuntimeError(f"go {step} failed while preparing Go's rename tool:\n{done[step].stderr[-3000:]}")
    lines = [line for line in done["list"].stdout.splitlines() if "=" in line and " " not in line.split("=")[0]]
    _write_atomically(exports, "\n".join(lines) + "\n")
    private_name(tool).replace(tool)


def _single_verdict(result: CommandResult) -> Verdict:
    text = excerpt((result.stdout or "") + "\n" + (result.stderr or ""))
    if result.timed_out:
        return Verdict("timeout", f"go test timed out after {result.seconds:.1f}s", result.seconds)
    if result.returncode == 0:
        return Verdict("passed", "", result.seconds)
    combined = (result.stdout or "") + (result.stderr or "")
    if "[build failed]" in combined or "[setup failed]" in combined:
        return Verdict("compile_error", text, result.seconds)
    if TIMEOUT_MARK in combined:
        return Verdict("timeout", text, result.seconds)
    return Verdict("failed", text, result.seconds)


def _raise_if_cache_unusable(result: CommandResult, cache_dir: Path, go: str) -> None:
    """A build that failed writing into the read-only build cache is the harness's problem, not the program's:
    an ``error`` verdict. Only when go itself says so (a failed build or setup, not the program's output) and
    the cache, checked here, really would rebuild dependencies: a program cannot stop a run by printing it."""
    if result.timed_out or result.returncode == 0:
        return
    combined = (result.stdout or "") + (result.stderr or "")
    if "[setup failed]" not in combined and "[build failed]" not in combined:
        return
    cache = str(cache_dir / "go")
    if not any(path.startswith(cache + "/") for path in _READ_ONLY_WRITE.findall(combined)):
        return
    stale = _stale_dependencies(cache_dir, go)
    if stale or stale is None:
        raise ExecutionInfrastructureError(
            f"the Go build cache in {cache} is not usable (go had to rebuild {', '.join(stale or ['packages'])} and "
            f"the sandbox mounts the cache read-only): {SETUP_HINT}"
        )


def _stale_dependencies(cache_dir: Path, go: str) -> list[str] | None:
    """The dependencies of a HumanEvalPack program (the standard library, testify) that the build cache cannot
    serve, so that ``go test`` would compile and write them: ``go list`` reads the cache, builds nothing.
    None when go cannot tell. A cache copied to another path needs this: build IDs include the module
    cache's path, so every testify package is stale there (file times do not matter)."""
    with tempfile.TemporaryDirectory() as scratch:
        shutil.copyfile(SUPPORT_DIR / "warm_test.go", Path(scratch) / "warm_test.go")
        _write_module_files(cache_dir, go, Path(scratch))
        env = {**_go_env(cache_dir, go, Path(scratch)), "HOME": scratch}
        template = "{{if .Stale}}{{.ImportPath}}{{end}}"
        try:
            done = subprocess.run(
                [go, "list", "-test", "-deps", "-f", template, "."],
                cwd=scratch,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
        except (OSError, subprocess.SubprocessError):
            return None
    if done.returncode != 0:
        return None
    # the scratch package itself (and its test variants) is never in the cache
    names = [line.split()[0] for line in done.stdout.splitlines() if line.strip()]  # "pkg [pkg.test]" variants
    return [name for name in names if name != MODULE and not name.startswith(MODULE + ".")]


def _write_atomically(path: Path, text: str) -> None:
    tmp = private_name(path)
    tmp.write_text(text)
    tmp.replace(path)


def _run_go(
    argv: list[str], workdir: Path, sandbox: SandboxRunner, cache_dir: Path, go: str, limits: Limits, budget: float
) -> CommandResult:
    """A go command (or the test binary it built) in the sandbox, reading the shared caches read-only."""
    return sandbox.run(
        argv,
        workdir=workdir,
        timeout=budget,
        limits=limits,
        env=_go_env(cache_dir, go, workdir),
        read_only_paths=existing([cache_dir / "go", _goroot(go)]),
    )


def _go_env(cache_dir: Path, go: str, workdir: Path) -> dict[str, str]:
    base = cache_dir / "go"
    return sandbox_env(
        workdir,
        [str(Path(go).parent)],
        GOCACHE=str(base / "gocache"),
        GOMODCACHE=str(base / "modcache"),
        GOPATH=str(workdir / ".gopath"),
        GOFLAGS="-mod=mod",
        GOPROXY="off",
        GOSUMDB="off",
        GOTOOLCHAIN="local",
        GOENV="off",
        GOTELEMETRY="off",
    )


def _write_module_files(cache_dir: Path, go: str, target: Path) -> None:
    module = _module_dir(cache_dir, go)
    for name in ("go.mod", "go.sum"):
        shutil.copyfile(module / name, target / name)


@functools.lru_cache(maxsize=4)
def _go_version(go: str) -> str:
    return tool_output([go, "version"])


@functools.lru_cache(maxsize=4)
def _goroot(go: str) -> Path:
    return Path(tool_output([go, "env", "GOROOT"]) or Path(go).resolve().parent.parent)


def _module_dir(cache_dir: Path, go: str) -> Path:
    key = hashlib.sha256((_go_version(go) + (SUPPORT_DIR / "go.mod.txt").read_text()).encode()).hexdigest()[:12]
    return cache_dir / "go" / f"module-{key}"


def _ready(cache_dir: Path, go: str) -> bool:
    module = _module_dir(cache_dir, go)
    return (module / "READY").is_file() and (module / VET_FLAGS_FILE).is_file()


def _vet_flags(cache_dir: Path, go: str) -> list[str]:
    return (_module_dir(cache_dir, go) / VET_FLAGS_FILE).read_text().split()


def _test_vet_flags(go: str, package_dir: str, env: dict[str, str]) -> list[str]:
    """The analyzers ``go test`` runs, read from its dry run (``-a`` so nothing is skipped as cached).

    Dependencies are vetted for facts only (``-unsafeptr=false ...``); the tested packages get the bare
    ``-atomic -bool ...`` list. [] (= every default analyzer, a superset: only costlier) when that is unclear."""
    done = subprocess.run(
        [go, "test", "-n", "-a", "."], cwd=package_dir, env=env, capture_output=True, text=True, timeout=600
    )
    lists = set()
    for line in (done.stdout + done.stderr).splitlines():
        words = line.split()
        tool = next((i for i, word in enumerate(words) if word.startswith("/") and word.endswith("/vet")), None)
        if tool is None or not words[-1].endswith("vet.cfg"):
            continue
        flags = tuple(words[tool + 1 : -1])
        if flags and all(flag.startswith("-") and "=" not in flag for flag in flags):
            lists.add(flags)
    return list(lists.pop()) if len(lists) == 1 else []


def _seconds(value: float) -> str:
    return f"{max(1, round(value))}s"


LANGUAGE = GoLanguage()
