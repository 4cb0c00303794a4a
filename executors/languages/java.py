"""Java: the reference writes ``Main.java``, runs ``javac Main.java`` then ``java -cp . Main`` (no ``-ea``);
pass = exit 0.

Speed-ups that keep the verdicts: the JVMs run C1-only (start-up bound work), and ``execute_batch`` compiles all
programs of a batch in ONE sandboxed JVM running ``BatchCompile`` (javax.tools with javac's task pool, so the
compiler and the JDK's classes it has read stay warm from one program to the next: ~20 ms a program instead of
~50; each program still gets its own directory and output, and its source cannot run code at compile time).
Programs the batch compiler did not reach are compiled alone with plain ``javac``. Each program then runs in a
fresh JVM (``java -cp <its directory> Main``); the batch's JVMs share one sandbox start (``exec_batch``).
Sources are read as UTF-8, the reference's JDK 18 default.

The batch compiler's JVM starts from a class-data-sharing archive of javac's classes, dumped by ``prepare``
(about 0.3 s less per batch); a JVM that cannot use the archive ignores it.
"""

from __future__ import annotations

import functools
import hashlib
import subprocess
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from ..runtime.compiled import (
    compile_failure,
    existing,
    find_tool,
    install_prefix,
    run_verdict,
    sandbox_env,
    tool_output,
)
from ..runtime.exec_batch import Command, run_alone, run_each
from ..runtime.language import (
    BatchVerdicts,
    CommandResult,
    Language,
    OnVerdict,
    SandboxRunner,
    ToolReport,
    group_by_limits,
)
from ..runtime.prepare_lock import exclusive, private_name
from ..types import Limits, Program, Verdict, excerpt

SUPPORT_SOURCE = Path(__file__).with_name("java_support") / "BatchCompile.java"
RESULT_FILE = ".javac_result"
# G1, not SerialGC: JDK 17 maps its class-data archive's heap objects only for G1 (~15 ms less per JVM start).
# Named explicitly, since a JVM that sees one CPU or little memory picks SerialGC itself.
FAST_JVM = ("-XX:TieredStopAtLevel=1", "-XX:+UseG1GC", "-XX:-UsePerfData")
TASK_POOL_EXPORT = "--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED"  # BatchCompile's JavacTaskPool
JAVAC_OPTIONS = ("-encoding", "UTF-8", "-proc:none")
INSTALL_HINT = "apt-get install openjdk-17-jdk-headless (Java >= 16 is required: Java/151 uses pattern matching)"
BATCH_COMPILE_SECONDS = 2.0  # extra compile budget per additional program in one batch JVM
DRIVER_JAR = "batch-compile.jar"  # a jar, not a class dir: a JVM only shares classes from jars
CDS_ARCHIVE = "batch-compile.jsa"
WARM_UP_PROGRAM = "public class Main { public static void main(String[] args) { System.exit(0); } }\n"


class JavaLanguage(Language):
    name = "java"
    batch_size = 64  # the batch JVM's start and javac warm-up (~0.8 s) spread over more programs

    def toolchain_roots(self) -> list[Path]:
        return install_prefix(find_tool("java"))

    def check(self, cache_dir: Path) -> ToolReport:
        report = ToolReport(language=self.name, ok=True, how_to_install=INSTALL_HINT)
        for tool, flag in (("javac", "-version"), ("java", "-version")):
            path = find_tool(tool)
            if path:
                report.found[tool] = tool_output([path, flag])
            else:
                report.missing.append(tool)
        javac = find_tool("javac")
        if javac and not (_driver_dir(cache_dir, javac) / DRIVER_JAR).is_file():
            report.found["batch compiler"] = "not built yet (prepare); plain javac is used"
        elif javac:
            archive = _driver_dir(cache_dir, javac) / CDS_ARCHIVE
            report.found["batch compiler"] = f"class-data archive {archive}" if archive.is_file() else "no CDS archive"
        report.ok = not report.missing
        return report

    def prepare(self, cache_dir: Path) -> None:
        javac, java = find_tool("javac"), find_tool("java")
        if javac is None or java is None:
            return
        target = _driver_dir(cache_dir, javac)
        with exclusive(target.with_name(target.name + ".lock")):  # concurrent setups take turns
            if (target / DRIVER_JAR).is_file():
                return
            # Trusted input (our own driver), built and warmed directly, once.
            target.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(prefix="classes-", dir=target) as classes:
                subprocess.run(
                    [javac, TASK_POOL_EXPORT, "-d", classes, str(SUPPORT_SOURCE)],
                    check=True,
                    capture_output=True,
                    timeout=300,
                )
                jar_tmp = private_name(target / DRIVER_JAR)
                with zipfile.ZipFile(jar_tmp, "w") as jar:
                    for path in sorted(Path(classes).glob("*.class")):
                        jar.write(path, path.name)
            jar_tmp.replace(target / DRIVER_JAR)
            _dump_class_archive(java, target)  # with the jar's final path: the archive records the class path

    def execute(self, program: Program, workdir: Path, sandbox: SandboxRunner, cache_dir: Path) -> Verdict:
        javac, java = find_tool("javac"), find_tool("java")
        if javac is None or java is None:
            return Verdict("error", f"Java toolchain missing: {INSTALL_HINT}")
        (workdir / "Main.java").write_text(program.source, encoding="utf-8")
        return _compile_and_run(java, javac, workdir, sandbox, program.limits)

    def execute_batch(
        self,
        programs: Sequence[Program],
        workdir: Path,
        sandbox: SandboxRunner,
        cache_dir: Path,
        on_verdict: OnVerdict | None = None,
    ) -> list[Verdict]:
        javac, java = find_tool("javac"), find_tool("java")
        if javac is None or java is None:
            return [Verdict("error", f"Java toolchain missing: {INSTALL_HINT}") for _ in programs]
        build = workdir / "build"
        dirs = [build / f"p{index:04d}" for index in range(len(programs))]
        for directory, program in zip(dirs, programs, strict=True):
            directory.mkdir(parents=True)
            (directory / "Main.java").write_text(program.source, encoding="utf-8")
        batch = self._batch_compile(java, javac, dirs, programs, sandbox, cache_dir)
        share = batch.seconds / max(1, len(programs)) if batch else 0.0
        verdicts = BatchVerdicts(on_verdict)
        decide = verdicts.decide
        compiled = []
        for position, directory in enumerate(dirs):
            result_file = directory / RESULT_FILE
            if not result_file.is_file():  # the batch JVM never got here (crash or timeout): compile alone
                decide(position, _compile_and_run(java, javac, directory, sandbox, programs[position].limits))
                continue
            status, _, diagnostics = result_file.read_text(encoding="utf-8", errors="replace").partition("\n")
            if status != "ok":
                decide(position, Verdict("compile_error", excerpt(diagnostics), share))
            else:
                compiled.append(position)
        self._run_compiled(
            java,
            [programs[i] for i in compiled],
            [dirs[i] for i in compiled],
            workdir,
            sandbox,
            lambda k, verdict: decide(compiled[k], verdict),
            share,
        )
        for position in compiled:
            if position not in verdicts.known:  # no answer from the shared sandbox: run it alone
                decide(position, _run_main(java, dirs[position], sandbox, programs[position].limits, share))
        return [verdicts.known[i] for i in range(len(programs))]

    def _run_compiled(
        self,
        java: str,
        programs: list[Program],
        dirs: list[Path],
        workdir: Path,
        sandbox: SandboxRunner,
        decide: OnVerdict,
        share: float,
    ) -> None:
        """Each program in a fresh JVM (``java -cp <its dir> Main``), all through one sandbox start."""
        for group, (limits, positions) in enumerate(group_by_limits(programs).items()):
            commands = [Command(_java_argv(java, limits, dirs[i]), limits.run_timeout) for i in positions]
            group_dir = workdir / f"run{group}"
            group_dir.mkdir()
            run_each(
                commands,
                sandbox=sandbox,
                workdir=group_dir,
                limits=limits,
                env=sandbox_env(group_dir),
                read_only_paths=[workdir / "build"],
                on_result=lambda k, result, positions=positions: decide(positions[k], run_verdict(result, share)),
            )

    def _batch_compile(
        self,
        java: str,
        javac: str,
        dirs: list[Path],
        programs: Sequence[Program],
        sandbox: SandboxRunner,
        cache_dir: Path,
    ) -> CommandResult | None:
        driver = _driver_dir(cache_dir, javac)
        if len(dirs) < 2 or not (driver / DRIVER_JAR).is_file():
            return None
        limits = max((p.limits for p in programs), key=lambda lim: lim.compile_timeout)
        budget = limits.compile_timeout + BATCH_COMPILE_SECONDS * (len(dirs) - 1)
        argv = [
            java,
            *FAST_JVM,
            *_heap(limits),
            *_shared_classes(driver),
            TASK_POOL_EXPORT,
            "-cp",
            str(driver / DRIVER_JAR),
            "BatchCompile",
            *(d.name for d in dirs),
        ]
        return sandbox.run(
            argv,
            workdir=dirs[0].parent,
            timeout=budget,
            limits=limits,
            env=sandbox_env(dirs[0].parent),
            read_only_paths=existing([cache_dir / "java"]),
        )


def _compile_and_run(java: str, javac: str, workdir: Path, sandbox: SandboxRunner, limits: Limits) -> Verdict:
    built = _javac(javac, workdir, sandbox, limits)
    if built.timed_out or built.returncode != 0:
        return compile_failure(built, "javac")
    return _run_main(java, workdir, sandbox, limits, built.seconds)


def _javac(javac: str, workdir: Path, sandbox: SandboxRunner, limits: Limits) -> CommandResult:
    argv = [javac, *(f"-J{flag}" for flag in FAST_JVM), *JAVAC_OPTIONS, "Main.java"]
    return sandbox.run(argv, workdir=workdir, timeout=limits.compile_timeout, limits=limits, env=sandbox_env(workdir))


def _run_main(java: str, workdir: Path, sandbox: SandboxRunner, limits: Limits, compile_seconds: float) -> Verdict:
    """``java -cp <workdir> Main`` as a batch would run it (``exec_batch.run_alone``)."""
    command = Command(_java_argv(java, limits, workdir), limits.run_timeout)
    ran = run_alone(
        command, sandbox=sandbox, workdir=workdir, limits=limits, env=sandbox_env(workdir), read_only_paths=[workdir]
    )
    return run_verdict(ran, compile_seconds)


def _java_argv(java: str, limits: Limits, classpath: Path) -> list[str]:
    return [java, *FAST_JVM, *_heap(limits), "-cp", str(classpath), "Main"]


def _dump_class_archive(java: str, driver: Path) -> None:
    """Compile one trivial program with ``-XX:ArchiveClassesAtExit`` so later batch JVMs map javac's classes."""
    with tempfile.TemporaryDirectory(prefix="octopack-cds-") as tmp:
        (Path(tmp) / "Main.java").write_text(WARM_UP_PROGRAM, encoding="utf-8")
        archive = private_name(driver / CDS_ARCHIVE)
        argv = [
            java,
            *FAST_JVM,
            f"-XX:ArchiveClassesAtExit={archive}",
            TASK_POOL_EXPORT,
            "-cp",
            str(driver / DRIVER_JAR),
            "BatchCompile",
            tmp,
        ]
        done = subprocess.run(argv, capture_output=True, timeout=300)
        if done.returncode == 0 and archive.is_file():
            archive.replace(driver / CDS_ARCHIVE)


def _shared_classes(driver: Path) -> list[str]:
    archive = driver / CDS_ARCHIVE
    return [f"-XX:SharedArchiveFile={archive}"] if archive.is_file() else []


def _heap(limits: Limits) -> list[str]:
    # An explicit heap cap keeps the JVM inside the sandbox's memory limit instead of sizing itself from host RAM.
    return [f"-Xmx{max(64, limits.memory_mb // 2)}m"]


@functools.lru_cache(maxsize=4)
def _javac_version(javac: str) -> str:
    return tool_output([javac, "-version"])


def _driver_dir(cache_dir: Path, javac: str) -> Path:
    key = hashlib.sha256((_javac_version(javac) + SUPPORT_SOURCE.read_text()).encode()).hexdigest()[:12]
    return cache_dir / "java" / f"batch-compile-{key}"


LANGUAGE = JavaLanguage()
