"""Go batches as ONE test binary: the pieces ``go.execute_batch`` assembles.

Linking a test binary (testify pulls in net/http) costs about 0.6 s, far more than compiling or running a
HumanEvalPack program. So a batch links once: every program becomes its own package ``progNNN`` (its
``package main`` clause renamed), and a generated driver test calls each program's ``TestXxx`` functions in
order, under a per-program watchdog, writing one report line per program to a file.

Parity with the reference (``go test main_test.go``, pass = exit 0) is kept by construction:
- vet: the same program, unchanged, is vetted as a ``main`` test package with exactly the analyzers ``go test``
  runs (read from ``go test -n`` at prepare time). A program vet names (a finding, a type or syntax error) is a
  compile error, as ``go test`` reports it (``[build failed]`` / ``[setup failed]``, exit 1); checked on every
  real program vet names.
- only programs whose tests we can enumerate exactly join (see ``test_functions``); the rest leave the batch.
- a panic in a test fails that program only (the reference binary dies: also a failure); a program that kills
  the binary or hangs is attributed from the report file. Whatever leaves the batch, or has no clear answer,
  is decided by the reference-shaped single run.

Programs share one process, so a deliberately hostile program could forge its batch-mates' report lines, as
it could in the reference's in-process Python harness. The sandbox still contains the whole binary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..types import excerpt

REPORT_FILE = "reports.txt"
DRIVER_FILE = "batch_test.go"
PACKAGE_PREFIX = "prog"
VET_PREFIX = "vet"

_PACKAGE_MAIN = re.compile(r"\A((?:\s*//[^\n]*\n)*\s*)package\s+main\b")
_ANY_TEST = re.compile(r"^func\s+Test", re.MULTILINE)
# go test's rule: "Test" then nothing or a non-lowercase letter, one *testing.T parameter, no type parameters.
_RUNNABLE_TEST = re.compile(r"^func\s+(Test(?:[A-Z0-9_]\w*)?)\s*\(\s*\w+\s+\*testing\.T\s*\)", re.MULTILINE)
# Entry points the driver cannot reproduce: TestMain, examples with checked output, fuzz seeds, init order.
_UNSUPPORTED = re.compile(r"^func\s+(TestMain|Example|Fuzz|init\b)", re.MULTILINE)


def test_functions(source: str) -> list[str] | None:
    """The TestXxx functions ``go test`` would run for this file, or None when we cannot be sure of them."""
    if not _PACKAGE_MAIN.match(source) or _UNSUPPORTED.search(source):
        return None
    names = _RUNNABLE_TEST.findall(source)
    if not names or len(names) != len(_ANY_TEST.findall(source)):
        return None
    return names


def as_package(source: str, package: str) -> str:
    """The program with its ``package main`` clause renamed (only called when ``test_functions`` accepted it)."""
    return _PACKAGE_MAIN.sub(lambda m: f"{m.group(1)}package {package}", source, count=1)


def package_name(index: int) -> str:
    return f"{PACKAGE_PREFIX}{index:03d}"


def vet_dir_name(index: int) -> str:
    return f"{VET_PREFIX}{index:03d}"


def vet_findings(output: str, indexes: list[int]) -> dict[int, str] | None:
    """Program -> vet's lines about it (diagnostics, type or syntax errors), with its package directory
    removed from the paths; None when the output names none of ``indexes``."""
    found: dict[int, list[str]] = {}
    for line in output.splitlines():
        named = re.search(rf"\b{VET_PREFIX}(\d{{3}})/", line)
        if named and int(named.group(1)) in indexes:
            found.setdefault(int(named.group(1)), []).append(re.sub(rf"\b{VET_PREFIX}\d{{3}}/", "", line))
    return {index: excerpt("\n".join(lines)) for index, lines in found.items()} or None


@dataclass
class DriverEntry:
    index: int
    tests: list[str]
    timeout_ms: int


def driver_source(entries: list[DriverEntry], module: str) -> str:
    imports = "".join(f'\t{package_name(e.index)} "{module}/{package_name(e.index)}"\n' for e in entries)
    rows = []
    for entry in entries:
        pkg = package_name(entry.index)
        tests = ", ".join(f'{{"{name}", {pkg}.{name}}}' for name in entry.tests)
        rows.append(f"\t{{{entry.index}, {entry.timeout_ms}, []namedTest{{{tests}}}}},\n")
    return DRIVER_TEMPLATE.replace("{{IMPORTS}}", imports).replace("{{PROGRAMS}}", "".join(rows))


@dataclass
class BatchReports:
    started: list[int] = field(default_factory=list)
    finished: dict[int, tuple[bool, float]] = field(default_factory=dict)  # index -> (passed, seconds)
    timed_out: dict[int, float] = field(default_factory=dict)

    @property
    def in_flight(self) -> int | None:
        """The program that was running when the binary stopped without finishing it."""
        if self.started and self.started[-1] not in self.finished and self.started[-1] not in self.timed_out:
            return self.started[-1]
        return None


def parse_reports(text: str) -> BatchReports:
    reports = BatchReports()
    for line in text.splitlines():
        parts = line.split()
        try:
            if parts[:1] == ["start"] and len(parts) == 2:
                reports.started.append(int(parts[1]))
            elif parts[:1] == ["end"] and len(parts) == 4 and parts[2] in ("pass", "fail"):
                reports.finished[int(parts[1])] = (parts[2] == "pass", float(parts[3]))
            elif parts[:1] == ["timeout"] and len(parts) == 3:
                reports.timed_out[int(parts[1])] = float(parts[2])
        except ValueError:
            continue
    for index in reports.timed_out:  # the watchdog's word wins over a racing end line
        reports.finished.pop(index, None)
    return reports


def failure_details(stdout: str) -> dict[int, str]:
    """Per program, the output streamed while its tests ran (``-test.v``): testify's assertion messages."""
    lines: dict[int, list[str]] = {}
    current: int | None = None
    for line in stdout.splitlines():
        marker = _TEST_MARKER.match(line)
        if marker:
            current = int(marker.group(1))
        elif line.startswith(("=== ", "--- ", "FAIL", "PASS", "ok ")) or not line.strip():
            continue
        elif current is not None:
            lines.setdefault(current, []).append(line.strip())
    return {index: excerpt("\n".join(text)) for index, text in lines.items()}


_TEST_MARKER = re.compile(r"^=== (?:RUN|CONT|NAME|PAUSE)\s+TestBatch/p(\d+)\b")


DRIVER_TEMPLATE = """package batch

import (
\t"fmt"
\t"os"
\t"testing"
\t"time"

{{IMPORTS}})

type namedTest struct {
\tname string
\tfn   func(*testing.T)
}

type program struct {
\tindex     int
\ttimeoutMs int
\ttests     []namedTest
}

var programs = []program{
{{PROGRAMS}}}

func TestBatch(t *testing.T) {
\treport, err := os.OpenFile("REPORT_FILE", os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
\tif err != nil {
\t\tt.Fatal(err)
\t}
\tfor _, p := range programs {
\t\tp := p
\t\tfmt.Fprintf(report, "start %d\\n", p.index)
\t\tbegin := time.Now()
\t\tindex := p.index
\t\twatchdog := time.AfterFunc(time.Duration(p.timeoutMs)*time.Millisecond, func() {
\t\t\tfmt.Fprintf(report, "timeout %d %.3f\\n", index, time.Since(begin).Seconds())
\t\t\tos.Exit(3)
\t\t})
\t\tpassed := t.Run(fmt.Sprintf("p%d", p.index), func(t *testing.T) {
\t\t\tfor _, test := range p.tests {
\t\t\t\ttest := test
\t\t\t\tt.Run(test.name, func(t *testing.T) {
\t\t\t\t\tdefer func() {
\t\t\t\t\t\tif r := recover(); r != nil {
\t\t\t\t\t\t\tt.Errorf("panic: %v", r)
\t\t\t\t\t\t}
\t\t\t\t\t}()
\t\t\t\t\ttest.fn(t)
\t\t\t\t})
\t\t\t}
\t\t})
\t\twatchdog.Stop()
\t\toutcome := "fail"
\t\tif passed {
\t\t\toutcome = "pass"
\t\t}
\t\tfmt.Fprintf(report, "end %d %s %.3f\\n", p.index, outcome, time.Since(begin).Seconds())
\t}
}
""".replace("REPORT_FILE", REPORT_FILE)
