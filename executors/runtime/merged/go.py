"""Go batches as ONE test binary: the pieces ``go.execute_batch`` assembles.

Linking a test binary (testify pulls in net/http) costs about 0.6 s, far more than compiling or running a
HumanEvalPack program. So a batch links once, and a generated driver declares one top-level test per program test
(``TestPNNN_TestXxx``). Compiling and vetting a package has a fixed cost too (a process, the imports' export
data: ~40 ms, most of a small program's), so programs share packages (``shared_packages``): the ``rename`` tool
(``go_support/rename.go``) type-checks each program alone and suffixes its package-level names with ``__pNNN``,
so that up to ``PROGRAMS_PER_PACKAGE`` of them are the files ``pNNN.go`` of one package ``progNNN`` (its
``package main`` clause renamed) without any name of one resolving to another's. A program it refuses (it does
not type-check alone, a package-level variable with an initial value, an embedded field) is a package alone.
The binary is then run once PER PROGRAM, filtered with ``-test.run`` to that program's tests, each run a fresh
process: a program's verdict is its own process's exit status, as ``go test`` decides it
(exit 0 passes; a failed test, a panic, a crash, ``os.Exit`` or the ``-test.timeout`` panic fail it), and no
program can write anything another program's verdict is read from.

Parity with the reference (``go test main_test.go``, pass = exit 0) is kept by construction:
- vet: the same program (renamed apart, in the package it shares) is vetted as a ``main`` test package with
  exactly the analyzers ``go test`` runs (read from ``go test -n`` at prepare time); a type error in a shared
  package (each of its programs type-checked alone) sends its programs out of the batch. A program vet names
  (a finding, a type or syntax error) is a compile error, as ``go test`` reports it (``[build failed]`` /
  ``[setup failed]``, exit 1); checked on every real program vet names.
- only programs whose tests we can enumerate exactly join (see ``test_functions``); the rest leave the batch.
- no batch-mate's code runs in a program's process: only package initialisation could run it there (every
  linked package is initialised in every run), so programs importing ``C`` (constructors) or ``unsafe``
  (``go:linkname``) do not join, and a program whose package the compiler gave initialisation code
  (``initializing_packages``, read from the binary's symbol table) leaves the batch with its package-mates,
  linked again without them. Whatever leaves the batch, or has no clear answer, is decided by the
  reference-shaped single run.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from ...types import excerpt

DRIVER_FILE = "batch_test.go"
PACKAGE_PREFIX = "prog"
VET_PREFIX = "vet"
RENAME_MARK = "__p"  # rename.go's suffix: __pNNN, NNN the name of the program's file
PROGRAMS_PER_PACKAGE = 8
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


def package_name(number: int) -> str:
    return f"{PACKAGE_PREFIX}{number:03d}"


def vet_dir_name(number: int) -> str:
    return f"{VET_PREFIX}{number:03d}"


def program_file(index: int) -> str:
    """A program's file in its package: not a _test.go file, so that the driver can import it."""
    return f"p{index:03d}.go"


def vet_file(index: int) -> str:
    return f"p{index:03d}_test.go"


def rename_input(index: int) -> str:
    """The file rename.go reads the program from (its name gives the suffix: ``rename_suffix``)."""
    return f"{index:03d}.go"


def rename_output(index: int) -> str:
    """The file rename.go writes the renamed program to (``.refused`` instead, with its reason, if it refuses)."""
    return f"{index:03d}.renamed"


def rename_suffix(index: int) -> str:
    return f"{RENAME_MARK}{index:03d}"


def shared_packages(indexes: list[int], renamed: set[int], size: int = PROGRAMS_PER_PACKAGE) -> list[list[int]]:
    """The packages of a batch, each a list of programs: the renamed ones share packages of up to ``size``, in
    order; every other program is a package alone. A package is known by its first program."""
    sharing = [i for i in indexes if i in renamed]
    return [sharing[k : k + size] for k in range(0, len(sharing), size)] + [[i] for i in indexes if i not in renamed]


def vet_findings(output: str, indexes: list[int]) -> dict[int, str] | None:
    """Program -> vet's lines about it (diagnostics, type or syntax errors), worded as its own ``go vet`` of
    main_test.go would word them; None when the output names none of ``indexes``."""
    found: dict[int, list[str]] = {}
    for line in output.splitlines():
        named = re.search(rf"\b{VET_PREFIX}\d{{3}}/p(\d{{3}})_test\.go", line)
        if named and int(named.group(1)) in indexes:
            index = int(named.group(1))
            found.setdefault(index, []).append(localize(line.replace(named.group(), "main_test.go"), index))
    return {index: excerpt("\n".join(lines)) for index, lines in found.items()} or None


def is_type_error(finding: str) -> bool:
    """go vet words the type checker's errors ``vet: file:line:col: ...`` (its analyzers' findings lack it)."""
    return finding.startswith("vet: ")


@dataclass
class DriverEntry:
    index: int
    tests: list[str]
    package: int  # the package's number (its first program)
    suffix: str = ""  # what rename.go appended to the program's names


def driver_test_prefix(index: int) -> str:
    """The driver's tests of one program are named ``TestP{index}_{its test}``."""
    return f"TestP{index:03d}_"


def test_filter(index: int) -> str:
    """``-test.run`` selecting exactly one program's tests (digits then ``_``: no other program's prefix)."""
    return f"-test.run=^{driver_test_prefix(index)}"


def driver_source(entries: list[DriverEntry], module: str) -> str:
    """The driver package: every program's tests as top-level tests of its own, in the program's order (go test
    runs top-level tests in source order; parallel ones after the others, as alone). The dynamic variable gives
    the driver an initialiser of its own: proof that ``initializing_packages`` reads this toolchain's names."""
    packages = sorted({e.package for e in entries})
    imports = "".join(f'\t{package_name(n)} "{module}/{package_name(n)}"\n' for n in packages)
    tests = []
    for entry in entries:
        for name in entry.tests:
            wrapper = f"{driver_test_prefix(entry.index)}{name}"
            tests.append(f"func {wrapper}(t *testing.T) {{ {package_name(entry.package)}.{name}{entry.suffix}(t) }}\n")
    header = f'package batch\n\nimport (\n\t"os"\n\t"testing"\n\n{imports})\n\nvar driverPid = os.Getpid()\n\n'
    return header + "".join(tests)


def initializing_packages(binary: bytes, module: str, numbers: list[int]) -> set[int] | None:
    """The packages (of ``numbers``) with initialisation code in the linked binary (``progNNN.init``, its
    ``init.N`` functions or its ``..inittask``), read from the ELF symbol names; None when the driver's own
    initialiser is not found there either (no symbols, or named otherwise: nothing can be concluded)."""
    names = _elf_section(binary, b".strtab")
    quoted = re.escape(module.encode())
    if names is None or not re.search(rb"\x00" + quoted + rb"\.init\x00", names):
        return None
    package = quoted + b"/" + PACKAGE_PREFIX.encode()
    found = {int(n) for n in re.findall(package + rb"(\d+)\.(?:init(?:\.\d+)?|\.inittask)\x00", names)}
    return found & set(numbers)


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
    """A program's output as its own ``go test`` would word it: its file, test and package-level names."""
    text = text.replace(driver_test_prefix(index), "").replace(f"{program_file(index)}:", "main_test.go:")
    return text.replace(rename_suffix(index), "")
