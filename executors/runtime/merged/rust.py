"""Rust batches as ONE test crate: the pure pieces ``rust.execute_batch`` assembles.

Compiling one HumanEvalPack program with ``rustc --test`` costs about 0.1 s, linking its test binary 0.2-0.5 s. A
batch therefore compiles and links once: every program becomes ``mod octopack_pNNNN { <source> }`` in one crate,
built with exactly the single path's flags. The binary is then run once PER PROGRAM with libtest's name filter
``octopack_pNNNN::``, so a panic, abort, stack overflow, ``process::exit`` or hang touches that program alone,
exactly as its own binary would.

Parity with the single path (``cargo check`` as a plain binary, then compile the tests, pass = the test binary
exits 0) rests on one rule: a program may join only if wrapping it in a module cannot make it compile when it
would not compile alone, in either mode, nor change what it does at run time (``ineligibility`` lists what is
refused, all conservative). The batch is checked as a plain binary too (``ENTRY_POINT`` stands in for the
programs' own ``main``, which in a module is an ordinary function): so a program must have a plain top-level
``fn main() {``, which makes it a valid entry point alone. The reverse (fine alone, broken
in the batch, e.g. an impl of another program making inference ambiguous) needs no rule: every compile error is
attributed to a module by its line, that program leaves the batch, and the single path decides it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

MODULE_PREFIX = "octopack_p"
BATCH_FILE = "batch.rs"
ENTRY_POINT = "fn main() {}\n"  # after every module: the merged crate's own main when it is checked as a binary

# Identifiers that refuse a program wherever they appear outside strings and comments. Each one either reaches
# beyond the program's own module (symbols, crate-level lint levels, foreign code), or lets a run observe where it
# was built or run (file and line, module paths, panic locations, arguments and environment, files, thread names),
# which differs between the merged binary and the program's own.
BANNED_IDENTIFIERS = frozenset(
    {
        "extern",
        "unsafe",
        "macro_export",
        "no_mangle",
        "export_name",
        "link_section",
        "link_name",
        "global_allocator",
        "deny",
        "forbid",
        "include",
        "include_str",
        "include_bytes",
        "module_path",
        "env",
        "option_env",
        "asm",
        "global_asm",
        "naked_asm",
        "type_name",
        "type_name_of_val",
        "Location",
        "location",
        "set_hook",
        "take_hook",
        "update_hook",
        "Backtrace",
        "backtrace",
        "fs",
        "File",
        "OpenOptions",
        "Command",
        "os",
    }
)
# Common as plain names, so refused only as macros (``line!()``) or paths (``std::line``).
BANNED_MACROS = frozenset({"file", "line", "column"})

_RAW_STRING = re.compile(r'(?:br|cr|r)(#*)"')
_STRING = re.compile(r'[bc]?"')
_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = frozenset(_OPENERS.values())


class _Refused(Exception):
    pass


def module_name(index: int) -> str:
    return f"{MODULE_PREFIX}{index:04d}"


def test_filter(index: int) -> str:
    """libtest's filter selecting this module's tests only (substring match: no source may contain the prefix)."""
    return f"{module_name(index)}::"


def ineligibility(source: str) -> str | None:
    """Why this program must not join a merged batch (None: it may)."""
    try:
        source.encode("utf-8")
    except UnicodeEncodeError:
        return "not encodable as UTF-8"
    if MODULE_PREFIX in source:
        return f"mentions {MODULE_PREFIX}"
    try:
        tokens = _lex(source)
        _check(tokens)
    except _Refused as refused:
        return str(refused)
    return None


def eligible(source: str) -> bool:
    return ineligibility(source) is None


@dataclass
class Token:
    kind: str  # "ident", "punct", "literal", "lifetime"
    text: str


def _lex(source: str) -> list[Token]:
    """Rust tokens, enough to see identifiers and delimiters outside strings and comments; refuses whatever it
    cannot read with certainty (unterminated literals or comments, unbalanced delimiters, inner doc comments)."""
    tokens: list[Token] = []
    stack: list[str] = []
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c.isspace():
            i += 1
        elif source.startswith("//", i):
            if source.startswith("//!", i):
                raise _Refused("inner doc comment")
            end = source.find("\n", i)
            i = n if end < 0 else end + 1
        elif source.startswith("/*", i):
            if source.startswith("/*!", i):
                raise _Refused("inner doc comment")
            i = _skip_block_comment(source, i)
        elif match := _RAW_STRING.match(source, i):
            end = source.find('"' + match.group(1), match.end())
            if end < 0:
                raise _Refused("unterminated raw string")
            i = end + 1 + len(match.group(1))
            tokens.append(Token("literal", source[match.start() : i]))
        elif match := _STRING.match(source, i):
            i = _skip_quoted(source, match.end(), '"')
            tokens.append(Token("literal", source[match.start() : i]))
        elif c == "'" or source.startswith("b'", i):
            i = _char_or_lifetime(source, i, tokens)
        elif c.isalpha() or c == "_":
            end = _ident_end(source, i)
            if source[i:end] == "r" and source.startswith("#", end) and end + 1 < n and _ident_start(source[end + 1]):
                start, end = end + 1, _ident_end(source, end + 1)  # a raw identifier: r#name
            else:
                start = i
            tokens.append(Token("ident", source[start:end]))
            i = end
        elif c.isdigit():
            i = _number_end(source, i)
            tokens.append(Token("literal", "0"))
        else:
            if c in _OPENERS:
                stack.append(_OPENERS[c])
            elif c in _CLOSERS:
                if not stack or stack.pop() != c:
                    raise _Refused("unbalanced delimiters")
            tokens.append(Token("punct", c))
            i += 1
    if stack:
        raise _Refused("unbalanced delimiters")
    return tokens


def _skip_block_comment(source: str, i: int) -> int:
    depth, j = 1, i + 2
    while depth:
        if j >= len(source):
            raise _Refused("unterminated block comment")
        if source.startswith("/*", j):
            depth, j = depth + 1, j + 2
        elif source.startswith("*/", j):
            depth, j = depth - 1, j + 2
        else:
            j += 1
    return j


def _skip_quoted(source: str, j: int, quote: str) -> int:
    """Index just past the closing quote of a literal whose body starts at j (backslash escapes)."""
    while j < len(source):
        if source[j] == "\\":
            j += 2
        elif source[j] == quote:
            return j + 1
        else:
            j += 1
    raise _Refused("unterminated literal")


def _char_or_lifetime(source: str, i: int, tokens: list[Token]) -> int:
    start = i + (2 if source[i] == "b" else 1)
    if start < len(source) and source[start] == "\\":  # an escaped char: '\n', '\'', '\u{1F600}'
        end = source.find("'", start + 2)
        if end < 0 or end - start > 12:
            raise _Refused("unreadable char literal")
        tokens.append(Token("literal", source[i : end + 1]))
        return end + 1
    if start + 1 < len(source) and source[start + 1] == "'" and source[start] != "\n":
        tokens.append(Token("literal", source[i : start + 2]))
        return start + 2
    if source[i] == "b" or start >= len(source) or not _ident_start(source[start]):
        raise _Refused("unreadable char literal")
    end = _ident_end(source, start)
    tokens.append(Token("lifetime", source[i:end]))
    return end


def _ident_start(c: str) -> bool:
    return c.isalpha() or c == "_"


def _ident_end(source: str, i: int) -> int:
    while i < len(source) and (source[i].isalnum() or source[i] == "_"):
        i += 1
    return i


def _number_end(source: str, i: int) -> int:
    i = _ident_end(source, i)
    if source.startswith(".", i) and i + 1 < len(source) and source[i + 1].isdigit():
        i = _ident_end(source, i + 1)
    if source[i - 1] in "eE" and i < len(source) and source[i] in "+-":
        i = _ident_end(source, i + 1)
    return i


def _check(tokens: list[Token]) -> None:
    """The token-level rules (see the module docstring): raise ``_Refused`` naming the first one broken."""
    idents = {t.text for t in tokens if t.kind == "ident"}
    if "thread" in idents and "current" in idents:
        raise _Refused("may read the test thread's name")
    scopes: list[str] = []  # per open delimiter: "mod" (a module body), "macro" (a macro_rules body) or ""
    for k, token in enumerate(tokens):
        text = token.text
        before, after = _text(tokens, k - 1), _text(tokens, k + 1)
        if token.kind == "punct":
            if text == "#" and after == "!":
                raise _Refused("inner attribute")
            if text in _OPENERS:
                scopes.append(_scope_of(tokens, k))
            elif text in _CLOSERS:
                scopes.pop()
            continue
        if token.kind != "ident":
            continue
        if text in BANNED_IDENTIFIERS:
            raise _Refused(f"uses `{text}`")
        if text in BANNED_MACROS and (after == "!" or before == ":"):
            raise _Refused(f"uses `{text}!`")
        if text == "crate" and not (before == "(" and _text(tokens, k - 2) == "pub" and after == ")"):
            raise _Refused("uses `crate` other than in `pub(crate)`")
        if text == "super":
            if "mod" not in scopes:
                raise _Refused("`super` outside any module of its own")
            if "macro" in scopes:
                raise _Refused("`super` inside a macro")
            if after == ":" and _text(tokens, k + 2) == ":" and _text(tokens, k + 3) == "super":
                raise _Refused("`super::super`")
        if text == "mod" and k + 1 < len(tokens) and tokens[k + 1].kind == "ident" and _text(tokens, k + 2) == ";":
            raise _Refused("file module")
    if not _has_plain_main(tokens):
        raise _Refused("no plain top-level `fn main() {`")


def _has_plain_main(tokens: list[Token]) -> bool:
    """A top-level ``fn main() {`` with nothing before it that could change it (attributes such as
    ``#[cfg(test)]``, ``pub``, ``async``, ``const``): alone, that is always a valid entry point."""
    depth = 0
    for k, token in enumerate(tokens):
        if token.kind == "punct":
            depth += token.text in _OPENERS
            depth -= token.text in _CLOSERS
            continue
        if depth or token.text != "fn" or _text(tokens, k - 1) not in ("", "}", ";"):
            continue
        if [_text(tokens, k + j) for j in range(1, 5)] == ["main", "(", ")", "{"] and tokens[k + 1].kind == "ident":
            return True
    return False


def _text(tokens: list[Token], k: int) -> str:
    return tokens[k].text if 0 <= k < len(tokens) else ""


def _scope_of(tokens: list[Token], k: int) -> str:
    """What the delimiter opened at k encloses: a module body (``mod name {``), a macro_rules body, or other."""
    if tokens[k].text == "{" and _text(tokens, k - 2) == "mod" and tokens[k - 1].kind == "ident":
        return "mod"
    if _text(tokens, k - 3) == "macro_rules" and _text(tokens, k - 2) == "!" and tokens[k - 1].kind == "ident":
        return "macro"
    return ""


# ------------------------------------------------------------------------------------------------- merging


@dataclass
class MergedCrate:
    text: str
    lines: dict[int, tuple[int, int]] = field(default_factory=dict)  # index -> (first, last) line, 1-based


def merge(sources: dict[int, str]) -> MergedCrate:
    """One crate, each program in its own module; records each module's line range (wrapper lines included)."""
    parts: list[str] = []
    crate = MergedCrate("")
    line = 1
    for index, source in sources.items():
        body = source if source.endswith("\n") else source + "\n"
        block = f"mod {module_name(index)} {{\n{body}}}\n"
        last = line + block.count("\n") - 1
        crate.lines[index] = (line, last)
        parts.append(block)
        line = last + 1
    crate.text = "".join(parts)
    return crate


# ---------------------------------------------------------------------------------------------- diagnostics


def error_owners(stderr: str, lines: dict[int, tuple[int, int]], file_name: str = BATCH_FILE) -> set[int] | None:
    """The programs that rustc's JSON errors (``--error-format=json``) point into; None when any error cannot be
    pinned on a program (no span in the crate, a line outside every module, unreadable output) or none was read."""
    owners: set[int] = set()
    for diagnostic in _error_diagnostics(stderr):
        if not diagnostic.get("spans") and str(diagnostic.get("message", "")).startswith("aborting due to"):
            continue
        found = {_owner(line, lines) for line in _primary_lines(diagnostic, file_name)}
        if not found or None in found:
            return None
        owners |= found  # type: ignore[arg-type]
    return owners or None


def rendered_errors(stderr: str) -> str:
    """The human-readable text of the errors in rustc's JSON output."""
    return "".join(str(d.get("rendered") or d.get("message", "")) for d in _error_diagnostics(stderr))


def _error_diagnostics(stderr: str) -> list[dict]:
    found = []
    for raw in stderr.splitlines():
        if not raw.startswith("{"):
            continue
        try:
            diagnostic = json.loads(raw)
        except ValueError:
            continue
        if isinstance(diagnostic, dict) and str(diagnostic.get("level", "")).startswith("error"):
            found.append(diagnostic)
    return found


def _primary_lines(diagnostic: dict, file_name: str) -> list[int]:
    """Lines in the crate of the primary spans; a span inside a foreign macro counts where that macro was called."""
    found = []
    for span in diagnostic.get("spans") or []:
        if not span.get("is_primary"):
            continue
        while span is not None and span.get("file_name") != file_name:
            span = (span.get("expansion") or {}).get("span")
        found.append(int(span["line_start"]) if span is not None else -1)
    return found


def _owner(line: int, lines: dict[int, tuple[int, int]]) -> int | None:
    for index, (first, last) in lines.items():
        if first <= line <= last:
            return index
    return None


def localize(text: str, index: int, first_line: int, file_name: str = BATCH_FILE) -> str:
    """A merged run's output as the program's own binary would word it: its own line numbers, no module prefix."""

    def own_line(match: re.Match) -> str:
        return f"main.rs:{int(match.group(1)) - first_line}:"

    text = re.sub(rf"{re.escape(file_name)}:(\d+):", own_line, text)
    return text.replace(test_filter(index), "")
