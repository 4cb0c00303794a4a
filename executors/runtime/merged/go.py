"""Go batches as ONE test binary: the pieces ``go.execute_batch`` assembles.

Linking a test binary (testify pulls in net/http) costs about 0.6 s, far more than compiling or running a
HumanEvalPack program. So a batch links once: every program becomes its own package ``progNNN`` (its
``package main`` clause renamed), and a generated driver declares one top-level test per program test
(``TestPNNN_TestXxx``). The binary is then run once PER PROGRAM, filtered with ``-test.run`` to that program's
tests, each run a fresh process: a program's verdict is its own process's exit status, as ``go test`` decides it
(exit 0 passes; a failed test, a panic, a crash, ``os.Exit`` or the ``-test.timeout`` panic fail it), and no
program can write anything another program's verdict is read from.

Parity with the reference (``go test main_test.go``, pass = exit 0) is kept by construction:
- vet: the same program, unchanged, is vetted as a ``main`` test package with exactly the analyzers ``go test``
  runs (read from ``go test -n`` at prepare time). A program vet names (a finding, a type or syntax error) is a
  compile error, as ``go test`` reports it (``[build failed]`` / ``[setup failed]``, exit 1); checked on every
  real program vet names.
- only programs whose tests we can enumerate exactly join (see ``test_functions``); the rest leave the batch.
- no batch-mate's code runs in a program's process: only package initialisation could run it there (every
  linked package is initialised in every run), so programs importing ``C`` (constructors) or ``unsafe``
  (``go:linkname``) do not join, and a program whose package the compiler gave initialisation code
  (``initializing_programs``, read from the binary's symbol table) leaves the batch, which is linked again
  without it. Whatever leaves the batch, or has no clear answer, is decided by the reference-shaped single run.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from ...types import excerpt

DRIVER_FILE = "batch_test.go"
PROGRAM_FILE = "program.go"  # a package's only file: not a _test.go file, so that the driver can import it
PACKAGE_PREFIX = "prog"
VET_PREFIX = "vet"
REFUSED_IMPORTS = frozenset({"C", "unsafe"})  # cgo constructors and go:linkname run or reach beyond the program

_PACKAGE_MAIN = re.compile(r"\A((?:\s*//[^\n]*\n)*\s*)package\s+main\b")
_ANY_TEST = re.compile(r"^[ \t]*func\s+Test", re.MULTILINE)
# go test's rule: "Test" then nothing or a non-lowercase letter, one *testing.T parameter, no type parameters.
_RUNNABLE_TEST = re.compile(r"^func\s+(Test(?:[A-Z0-9_]\w*)?)\s*\(\s*\w+\s+\*testing\.T\s*\)", re.MULTILINE)
# Entry points the driver cannot reproduce: TestMain, examples with checked output, fuzz seeds, init order.
_UNSUPPORTED = re.compile(r"^[ \t]*func\s+(TestMain|Example|Fuzz|init\b)", re.MULTILINE)
# A build constraint could leave a package without files, failing the whole batch's link.
_BUILD_CONSTRAINT = re.compile(r"^\s*//\s*(?:go:build|\+build)", re.MULTILINE)
_HEADER_TOKEN = re.compile(r'\s+|//[^\n]*|/\*.*?\*/|"(?:[^"\\\n]|\\.)*"|`[^`]*`|[A-Za-z_]\w*|[();.]', re.DOTALL)
_ALIAS = re.compile(r"[A-Za-z_]\w*|\.")
_DECLARATIONS = frozenset({"func", "var", "const", "type"})


def test_functions(source: str) -> list[str] | None:
    """The TestXxx functions ``go test`` would run for this file, or None when we cannot be sure of them (or
    the program may not join a merged batch)."""
    if not _PACKAGE_MAIN.match(source) or _UNSUPPORTED.search(source) or _BUILD_CONSTRAINT.search(source):
        return None
    paths = imports(source)
    if paths is None or REFUSED_IMPORTS.intersection(paths):
        return None
    names = _RUNNABLE_TEST.findall(source)
    if not names or len(names) != len(_ANY_TEST.findall(source)):
        return None
    return names


def imports(source: str) -> list[str] | None:
    """The import paths of a Go file (its import declarations follow the package clause, before anything else);
    None when the header cannot be read with certainty (an escape in a path, an unexpected token)."""
    tokens = _header_tokens(source)
    if tokens[:2] != ["package", "main"]:
        return None
    paths: list[str] = []
    k = 2
    while True:
        while k < len(tokens) and tokens[k] == ";":
            k += 1
        if k == len(tokens) or tokens[k] != "import":
            return paths
        if _text(tokens, k + 1) == "(":
            k += 2
            while _text(tokens, k) != ")":
                k = _import_spec(tokens, k, paths)
                if k < 0:
                    return None
                while _text(tokens, k) == ";":
                    k += 1
            k += 1
        else:
            k = _import_spec(tokens, k + 1, paths)
            if k < 0:
                return None


def _header_tokens(source: str) -> list[str]:
    """Tokens (comments and spaces left out) up to the first declaration keyword or unreadable character."""
    tokens: list[str] = []
    position = 0
    while match := _HEADER_TOKEN.match(source, position):
        text, position = match.group(), match.end()
        if text.isspace() or text.startswith(("//", "/*")):
            continue
        tokens.append(text)
        if text in _DECLARATIONS:
            break
    return tokens


def _import_spec(tokens: list[str], k: int, paths: list[str]) -> int:
    """Reads ``[name | . | _] "path"`` at k into ``paths``: the index after it, or -1 when unreadable."""
    if _ALIAS.fullmatch(_text(tokens, k)):
        k += 1
    literal = _text(tokens, k)
    if len(literal) < 2 or literal[0] not in '"`' or literal[-1] != literal[0] or "\\" in literal:
        return -1
    paths.append(literal[1:-1])
    return k + 1


def _text(tokens: list[str], k: int) -> str:
    return tokens[k] if 0 <= k < len(tokens) else ""


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


def driver_test_prefix(index: int) -> str:
    """The driver's tests of one program are named ``TestP{index}_{its test}``."""
    return f"TestP{index:03d}_"


def test_filter(index: int) -> str:
    """``-test.run`` selecting exactly one program's tests (digits then ``_``: no other program's prefix)."""
    return f"-test.run=^{driver_test_prefix(index)}"


def driver_source(entries: list[DriverEntry], module: str) -> str:
    """The driver package: every program's tests as top-level tests of its own, in the program's order (go test
    runs top-level tests in source order; parallel ones after the others, as alone). The dynamic variable gives
    the driver an initialiser of its own: proof that ``initializing_programs`` reads this toolchain's names."""
    imports = "".join(f'\t{package_name(e.index)} "{module}/{package_name(e.index)}"\n' for e in entries)
    tests = []
    for entry in entries:
        for name in entry.tests:
            wrapper = f"{driver_test_prefix(entry.index)}{name}"
            tests.append(f"func {wrapper}(t *testing.T) {{ {package_name(entry.index)}.{name}(t) }}\n")
    header = f'package batch\n\nimport (\n\t"os"\n\t"testing"\n\n{imports})\n\nvar driverPid = os.Getpid()\n\n'
    return header + "".join(tests)


def initializing_programs(binary: bytes, module: str, indexes: list[int]) -> set[int] | None:
    """The programs whose package has initialisation code in the linked binary (``progNNN.init``, its
    ``init.N`` functions or its ``..inittask``), read from the ELF symbol names; None when the driver's own
    initialiser is not found there either (no symbols, or named otherwise: nothing can be concluded)."""
    names = _elf_section(binary, b".strtab")
    quoted = re.escape(module.encode())
    if names is None or not re.search(rb"\x00" + quoted + rb"\.init\x00", names):
        return None
    package = quoted + b"/" + PACKAGE_PREFIX.encode()
    found = {int(n) for n in re.findall(package + rb"(\d+)\.(?:init(?:\.\d+)?|\.inittask)\x00", names)}
    return found & set(indexes)


def _elf_section(binary: bytes, wanted: bytes) -> bytes | None:
    """The contents of a 64-bit little-endian ELF file's section of that name (None if absent or unreadable)."""
    if binary[:6] != b"\x7fELF\x02\x01":
        return None
    try:
        (table,) = struct.unpack_from("<Q", binary, 0x28)
        entry_size, count, names_index = struct.unpack_from("<HHH", binary, 0x3A)
        headers = [struct.unpack_from("<IIQQQQ", binary, table + k * entry_size) for k in range(count)]
        names = headers[names_index]
        name_table = binary[names[4] : names[4] + names[5]]
        for name, _type, _flags, _address, offset, size in headers:
            if name_table[name : name_table.find(b"\x00", name)] == wanted:
                return binary[offset : offset + size]
    except (struct.error, IndexError):
        return None
    return None


def localize(text: str, index: int) -> str:
    """A program's run output as its own ``go test`` would word it: its file and test names."""
    return text.replace(driver_test_prefix(index), "").replace(f"{PROGRAM_FILE}:", "main_test.go:")
