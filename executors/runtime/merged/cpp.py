"""C++ batches as ONE translation unit: the pure pieces ``cpp.execute_batch`` assembles.

A compile pays ~0.11 s just to load the precompiled helper header; the code of one HumanEvalPack program adds
a few hundredths. So a batch compiles once: every program goes into its own ``namespace octopack_pNNNN``, its
``int main()`` renamed ``octopack_main``, and a driver ``main`` runs the program named by ``argv[1]`` (the
binary runs once per program, each run in its own sandbox exactly like the single path's ``./a.out``).

Parity with compiling the program alone (pass = exit 0) is kept by merging only programs for which the
namespace provably changes nothing (``analyze`` says why not, and the program is then run alone):
- the preprocessor: only ``#include <h>`` of the helper headers and assert.h, plus ``#undef NDEBUG``. Every
  eligible program includes all helpers (so alone it gets the same precompiled header); the includes are
  hoisted, which changes nothing but for assert.h (not pulled in by the helpers), hence: no ``assert`` before
  the program's own ``#include <assert.h>``, and a batch only merges programs with equal include sets.
- name lookup: inside a namespace, a user's ``strlen(string)`` HIDES C's ``strlen`` and the names ``using
  namespace std`` brings in, where at global scope it overloads with them (CPP/23 buggy passes alone because
  the test's ``strlen("")`` picks C's), and a clash that fails alone would compile. So no program merges whose
  namespace-scope names (functions, variables, types, aliases, enumerators, using-declarations) include a name
  unqualified lookup finds at global scope once the headers are in (``HeaderNames.visible``: every identifier
  of the preprocessed headers that g++ accepts in ``using ::NAME;``, plus namespace names) or a macro name.
  Qualified ``::name`` and ``std::`` specialisations can only fail to compile in the namespace (then: alone).
- ``main``: exactly one, ``int main()`` / ``int main(void)`` at the top, called nowhere; its body becomes
  ``{{ body } return 0;}`` (flowing off ``main`` returns 0, off any other function it is undefined). The driver
  tail-calls it, so it starts on the very stack a lone ``main`` starts on.
- the process: every run executes the static initialisers and exit-time destructors of the whole batch. So
  no namespace-scope initialiser that calls anything (no call-like ``(``, ``new``, ``throw``) or names a type
  of the program (its constructor would run), no destructors at all, no ``__attribute__``/``asm``/``extern``;
  the binary's loaded size is checked, and a run without a program (``./batch.out``) must exit 0 at once.
- line-dependent macros (``__LINE__``, ``__FILE__``, ``__COUNTER__``, ``__func__`` ...), digraphs, trigraphs,
  line splices and non-ASCII code are refused, so the text and its line numbers map 1:1 (diagnostics are
  attributed to a program by line).
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

NAMESPACE_PREFIX = "octopack_p"
ENTRY = "octopack_main"
ASSERT_HEADER = "assert.h"

KEYWORDS = frozenset(
    "alignas alignof and and_eq asm auto bitand bitor bool break case catch char char16_t char32_t class compl "
    "const constexpr const_cast continue decltype default delete do double dynamic_cast else enum explicit export "
    "extern false float for friend goto if inline int long mutable namespace new noexcept not not_eq nullptr "
    "operator or or_eq private protected public register reinterpret_cast return short signed sizeof static "
    "static_assert static_cast struct switch template this thread_local throw true try typedef typeid typename "
    "union unsigned using virtual void volatile wchar_t while xor xor_eq".split()
)
BUILTIN_TYPES = frozenset(
    "bool char char16_t char32_t wchar_t short int long signed unsigned float double void".split()
)
CLASS_KEYS = frozenset({"class", "struct", "union"})
# Anywhere in the program: code whose meaning depends on the file, the line, the enclosing function or the
# linkage, or that runs outside main; identifiers of assert.h's own declarations (it is hoisted); our names.
FORBIDDEN = frozenset(
    "extern asm __asm __asm__ __attribute __attribute__ __declspec _Pragma __LINE__ __FILE__ __BASE_FILE__ "
    "__COUNTER__ __INCLUDE_LEVEL__ __DATE__ __TIME__ __TIMESTAMP__ __func__ __FUNCTION__ __PRETTY_FUNCTION__ "
    "__has_include __has_include_next".split()
)
FORBIDDEN_PREFIXES = ("__assert", "__ASSERT", "_ASSERT_H", "octopack_")
ASSERT_MACROS = frozenset({"assert", "assert_perror"})  # only after the program's own #include <assert.h>
DIGRAPHS = frozenset({"<%", "%>", "<:", ":>", "%:", "%:%:"})
MAX_STATIC_BYTES = 64 * 1024 * 1024  # a merged binary bigger than this in memory is not trusted to behave alike

_SCAN = re.compile(
    r"""(?P<ws>[ \t\f\v\r]+)
    |(?P<nl>\n)
    |(?P<block>/\*)
    |(?P<line>//[^\n]*)
    |(?P<raw>(?:u8|u|U|L)?R"(?P<delim>[^()\\\s"]{0,16})\()
    |(?P<str>(?:u8|u|U|L)?"(?:[^"\\\n]|\\.)*")
    |(?P<chr>(?:u8|u|U|L)?'(?:[^'\\\n]|\\.)+')
    |(?P<num>\.?[0-9](?:[eEpP][+-]|[0-9A-Za-z_.])*)
    |(?P<id>[A-Za-z_$][0-9A-Za-z_$]*)
    |(?P<punct>%:%:|\.\.\.|<<=|>>=|->\*|<%|%>|<:|:>|%:|::|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%^&|=]=
        |\.\*|\#\#|[{}\[\]()<>;:,.?~!+\-*/%^&|=\#])""",
    re.VERBOSE,
)
_INCLUDE = re.compile(r"#\s*include\s*<([^<>]*)>\s*")
_UNDEF_NDEBUG = re.compile(r"#\s*undef\s+NDEBUG\s*")
_DIAGNOSTIC = re.compile(
    r"^(?P<file>[^\s:][^:\n]*):(?P<line>\d+):(?:\d+:)?\s*(?P<kind>fatal error|error|warning|note)?"
)
_RESERVED = re.compile(r"_[_A-Z]")  # the implementation's names (__builtin_..., _Exit): never ours to declare
_TRIGRAPH = re.compile(r"\?\?[=/'()!<>\-]")
_SPLICE = re.compile(r"\\[ \t\f\v]*\r?\n")


class NotMergeable(Exception):
    """The program cannot be merged safely (the message says why); it runs alone."""


@dataclass(frozen=True)
class Token:
    kind: str  # id, num, str, chr, punct
    text: str
    line: int  # 1-based
    start: int  # offsets in the source
    end: int
    depth: int  # brace depth around the token (for a brace: outside it)


@dataclass(frozen=True)
class Directive:
    line: int
    start: int
    end: int  # up to, not including, the newline
    text: str


@dataclass
class Lexed:
    tokens: list[Token]
    directives: list[Directive]
    match: dict[int, int]  # index of an opening bracket of any kind -> index of its closing one


def lex(source: str) -> Lexed:
    """Tokens outside comments, string and character literals, with brace depth; preprocessor lines apart."""
    if _SPLICE.search(source) or _TRIGRAPH.search(source) or re.search(r"\r(?!\n)", source):
        raise NotMergeable("line splice, trigraph or bare carriage return")
    tokens: list[Token] = []
    directives: list[Directive] = []
    match: dict[int, int] = {}
    stack: list[int] = []
    pos, line, depth, line_start = 0, 1, 0, True
    closing = {")": "(", "]": "[", "}": "{"}
    while pos < len(source):
        found = _SCAN.match(source, pos)
        if found is None:
            raise NotMergeable(f"unexpected character {source[pos]!r} on line {line}")
        kind, text, end = found.lastgroup, found.group(), found.end()
        if kind == "delim":
            kind = "raw"
        if kind == "ws":
            pos = end
            continue
        if kind == "nl":
            line, line_start, pos = line + 1, True, end
            continue
        if kind in ("block", "raw"):
            closer = "*/" if kind == "block" else ")" + (found.group("delim") or "") + '"'
            stop = source.find(closer, end)
            if stop < 0:
                raise NotMergeable(f"unterminated {'comment' if kind == 'block' else 'raw string'} on line {line}")
            end = stop + len(closer)
            if kind == "raw":
                tokens.append(Token("str", source[pos:end], line, pos, end, depth))
            line += source.count("\n", pos, end)
            line_start, pos = False, end
            continue
        if kind == "line":
            line_start, pos = False, end
            continue
        if kind == "punct" and text in ("#", "%:") and line_start:
            stop = source.find("\n", pos)
            stop = len(source) if stop < 0 else stop
            directives.append(Directive(line, pos, stop, source[pos:stop]))
            pos = stop
            continue
        line_start = False
        if kind == "punct" and text in "([{":
            stack.append(len(tokens))
        elif kind == "punct" and text in closing:
            if not stack or tokens[stack[-1]].text != closing[text]:
                raise NotMergeable(f"unbalanced {text!r} on line {line}")
            opened = stack.pop()
            match[opened] = len(tokens)
            if text == "}":
                depth -= 1
        tokens.append(Token(kind, text, line, pos, end, depth))
        if text == "{" and kind == "punct":
            depth += 1
        pos = end
    if stack:
        raise NotMergeable(f"unclosed {tokens[stack[-1]].text!r} on line {tokens[stack[-1]].line}")
    return Lexed(tokens, directives, match)


@dataclass(frozen=True)
class Analysis:
    includes: frozenset[str]  # headers of the program's own #include <...> lines
    names: frozenset[str]  # names the program declares at namespace scope
    edits: tuple[tuple[int, int, str], ...]  # (start, end, replacement) turning the source into its namespace body


@dataclass(frozen=True)
class HeaderNames:
    """What the helper headers (and assert.h) put in a program's way."""

    visible: frozenset[str]  # names unqualified lookup at global scope finds (see ``visibility_probe``)
    macros: frozenset[str] = frozenset()  # macro names: a declared "name" that is a macro declares its expansion

    def to_json(self) -> str:
        return json.dumps({"visible": sorted(self.visible), "macros": sorted(self.macros)})

    @classmethod
    def from_json(cls, text: str) -> HeaderNames:
        data = json.loads(text)
        return cls(frozenset(data["visible"]), frozenset(data["macros"]))


def analyze(source: str, header: HeaderNames, allowed_headers: Iterable[str]) -> Analysis:
    """How to merge this program, or NotMergeable with the reason it must run alone."""
    lexed = lex(source)
    tokens = lexed.tokens
    allowed = set(allowed_headers) | {ASSERT_HEADER}
    includes: set[str] = set()
    assert_from: int | None = None
    for directive in lexed.directives:
        text = _strip_comments(directive.text)
        included = _INCLUDE.fullmatch(text)
        if included and included.group(1) in allowed:
            includes.add(included.group(1))
            if included.group(1) == ASSERT_HEADER and assert_from is None:
                assert_from = directive.start
        elif not _UNDEF_NDEBUG.fullmatch(text):
            raise NotMergeable(f"preprocessor line {directive.line}: {directive.text.strip()[:60]}")
    classes = _class_names(tokens)
    mains = []
    for index, token in enumerate(tokens):
        text = token.text
        if token.kind == "punct" and (text in DIGRAPHS or text in ("#", "##")):
            raise NotMergeable(f"{text!r} outside a preprocessor line (line {token.line})")
        if token.kind != "id":
            continue
        if text in FORBIDDEN or text.startswith(FORBIDDEN_PREFIXES):
            raise NotMergeable(f"uses {text} (line {token.line})")
        if text.startswith("_") and text in header.macros:  # the implementation's own: extern "C" {, attributes
            raise NotMergeable(f"uses the header macro {text} (line {token.line})")
        if text in ASSERT_MACROS and (assert_from is None or token.start < assert_from):
            raise NotMergeable(f"{text} before #include <assert.h> (line {token.line})")
        if text == "main":
            mains.append(index)
        if text == "name" and index > 0 and tokens[index - 1].text in (".", "->") and _next(tokens, index) == "(":
            if any(t.text in ("typeid", "type_info", "type") for t in tokens):  # a type's name says where it lives
                raise NotMergeable(f"asks a type for its name (line {token.line})")
        if text == "namespace" and not _is_using_std(tokens, index):
            raise NotMergeable(f"namespace other than `using namespace std` (line {token.line})")
        if text == "operator" and token.depth == 0:
            raise NotMergeable(f"operator at namespace scope (line {token.line})")
        if index > 0 and tokens[index - 1].text == "~" and text in classes and _next(tokens, index) == "(":
            raise NotMergeable(f"destructor ~{text} (line {token.line})")
    if len(mains) != 1:
        raise NotMergeable(f"`main` appears {len(mains)} times")
    names: set[str] = set()
    main_edits: tuple[tuple[int, int, str], ...] = ()
    types = set(classes)  # grows with the typedef and alias names, in program order
    for statement in _statements(lexed):
        declared, edits = _declared(statement, lexed, types, mains[0])
        names |= declared
        main_edits += edits
    if not main_edits:
        raise NotMergeable("no `int main()` at the top level")
    hidden = sorted(names & (header.visible | header.macros) | {n for n in names if _RESERVED.match(n)})
    if hidden:
        raise NotMergeable(f"declares names the headers own: {', '.join(hidden[:8])}")
    edits = tuple((d.start, d.end, "") for d in lexed.directives) + main_edits
    return Analysis(frozenset(includes), frozenset(names), tuple(sorted(edits)))


def namespace_body(source: str, analysis: Analysis) -> str:
    """The program as it goes inside its namespace: preprocessor lines emptied, main renamed; same line count."""
    parts, last = [], 0
    for start, end, replacement in analysis.edits:
        parts += [source[last:start], replacement]
        last = end
    parts.append(source[last:])
    return "".join(parts)


def namespace_name(index: int) -> str:
    return f"{NAMESPACE_PREFIX}{index:04d}"


@dataclass(frozen=True)
class TranslationUnit:
    text: str
    ranges: dict[int, tuple[int, int]]  # program index -> (first, last) line of its namespace block


def translation_unit(
    bodies: Mapping[int, str], includes: Iterable[str], header_order: Iterable[str]
) -> TranslationUnit:
    """Hoisted includes (helper order, then ``#undef NDEBUG`` + assert.h), one namespace per program, a driver."""
    wanted = set(includes)
    lines = [f"#include <{name}>" for name in header_order if name in wanted and name != ASSERT_HEADER]
    if ASSERT_HEADER in wanted:
        lines += ["#undef NDEBUG", f"#include <{ASSERT_HEADER}>"]
    ranges: dict[int, tuple[int, int]] = {}
    for index, body in bodies.items():
        first = len(lines) + 1
        body_lines = body.split("\n")
        lines += [f"namespace {namespace_name(index)} {{", *body_lines, "}"]
        ranges[index] = (first, len(lines))
    cases = "".join(f"    case {index}: return {namespace_name(index)}::{ENTRY}();\n" for index in bodies)
    lines.append(DRIVER.replace("{{CASES}}", cases))
    return TranslationUnit("\n".join(lines) + "\n", ranges)


# Optimised, so every ``return ...octopack_main();`` is a tail call (a jump) and the parsing touches no memory: the
# program's main then starts on exactly the stack a lone main starts on (same frame offsets, same leftovers from
# the C runtime's start-up), which keeps even programs reading uninitialised locals alike.
DRIVER = """__attribute__((optimize("O2"))) int main(int argc, char** argv) {
  if (argc < 2) return 0;
  unsigned long chosen = 0;
  for (const char* c = argv[1]; *c; ++c) {
    if (*c < '0' || *c > '9' || chosen > 100000000UL) return 120;
    chosen = chosen * 10 + (unsigned long)(*c - '0');
  }
  switch (chosen) {
{{CASES}}  }
  return 121;
}"""


def as_alone(text: str, index: int, first_line: int, names: tuple[str, str, str, str]) -> str:
    """A merged run's output as the program alone would print it (``names``: merged source, merged binary, lone
    source, lone binary): its lines, file, binary and function names in assert messages."""
    merged_source, merged_binary, source, binary = names
    namespace = namespace_name(index)
    text = re.sub(rf"\b{re.escape(merged_source)}:(\d+)", lambda m: f"{source}:{int(m.group(1)) - first_line}", text)
    text = re.sub(rf"(?<![\w/.-])(?:\S*/)?{re.escape(merged_binary)}\b", binary, text)
    return text.replace(f"{namespace}::{ENTRY}", "main").replace(f"{namespace}::", "")


def attribute(output: str, file_name: str, ranges: Mapping[int, tuple[int, int]]) -> set[int] | None:
    """Programs a failed build's output points at: lines inside their namespace block, or their namespace's name
    (``In function 'int octopack_p0003::octopack_main()'``, linker messages, instantiation contexts).

    None when the failure cannot be pinned on programs: an error in the unit's own lines (includes, driver), a
    fatal or internal compiler error without a program's line, or no program named at all."""
    named: set[int] = set()
    for raw in output.splitlines():
        text = raw.strip()
        found = _DIAGNOSTIC.match(text)
        if found and found.group("file") == file_name:
            line = int(found.group("line"))
            owner = next((index for index, (first, last) in ranges.items() if first <= line <= last), None)
            if owner is not None:
                named.add(owner)
            elif found.group("kind") in ("error", "fatal error"):
                return None
            continue
        if "fatal error" in text or "internal compiler error" in text:
            return None
        named |= {int(number) for number in re.findall(rf"\b{NAMESPACE_PREFIX}(\d{{4}})\b", text)} & set(ranges)
    return named or None


def static_size(elf: bytes) -> int | None:
    """Bytes a 64-bit little-endian ELF executable maps at start (sum of PT_LOAD memsz); None if unreadable."""
    try:
        if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
            return None
        phoff = struct.unpack_from("<Q", elf, 0x20)[0]
        phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
        total = 0
        for n in range(phnum):
            offset = phoff + n * phentsize
            if struct.unpack_from("<I", elf, offset)[0] == 1:
                total += struct.unpack_from("<Q", elf, offset + 0x28)[0]
        return total
    except (struct.error, IndexError):
        return None


def macro_names(defines: str) -> frozenset[str]:
    """Macro names in ``g++ -dM -E`` output."""
    return frozenset(re.findall(r"^#define ([A-Za-z_$][0-9A-Za-z_$]*)", defines, re.MULTILINE))


def identifiers(text: str) -> frozenset[str]:
    """Every identifier-like word of a text."""
    return frozenset(re.findall(r"[A-Za-z_$][0-9A-Za-z_$]*", text))


@dataclass(frozen=True)
class VisibilityProbe:
    """A translation unit asking g++ which header words unqualified lookup at global scope can find."""

    source: str
    lines: dict[int, str]  # probe line -> the word it asks about


def visibility_probe(header_source: str, preprocessed: str) -> VisibilityProbe:
    """``header_source`` (the helper includes, assert.h) then ``using namespace std;`` as a program has it, then
    one ``namespace octopack_qN { using ::WORD; }`` per identifier of the preprocessed headers: it compiles iff
    ``::WORD`` names something (qualified lookup in the global namespace follows the using-directive).
    Namespace names cannot be using-declared: those words get ``namespace octopack_qN = ::WORD;``."""
    head = header_source.rstrip("\n") + "\nusing namespace std;\n"
    namespaces = set(re.findall(r"\bnamespace\s+([A-Za-z_$][0-9A-Za-z_$]*)", preprocessed))
    rows, lines = [], {}
    first = head.count("\n") + 1
    for number, word in enumerate(sorted(identifiers(preprocessed) - KEYWORDS)):
        if word in namespaces:
            rows.append(f"namespace octopack_q{number} = ::{word};")
        else:
            rows.append(f"namespace octopack_q{number} {{ using ::{word}; }}")
        lines[first + number] = word
    return VisibilityProbe(head + "\n".join(rows) + "\n", lines)


def visible_names(probe: VisibilityProbe, compiler_output: str, file_name: str) -> frozenset[str]:
    """The probed words g++ did not reject: every word but those with an error on their own line."""
    rejected = set()
    for line in compiler_output.splitlines():
        found = _DIAGNOSTIC.match(line.strip())
        if found and found.group("file") == file_name and found.group("kind") in ("error", "fatal error"):
            rejected.add(int(found.group("line")))
    return frozenset(word for number, word in probe.lines.items() if number not in rejected)


# ------------------------------------------------------------------------------------------ statements


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text)
    if "/*" in text:
        raise NotMergeable("comment spanning a preprocessor line")
    return re.sub(r"//.*", "", text).strip()


def _next(tokens: list[Token], index: int) -> str:
    return tokens[index + 1].text if index + 1 < len(tokens) else ""


def _is_using_std(tokens: list[Token], index: int) -> bool:
    return (
        index > 0
        and tokens[index - 1].text == "using"
        and _next(tokens, index) == "std"
        and index + 2 < len(tokens)
        and tokens[index + 2].text == ";"
    )


def _class_names(tokens: list[Token]) -> set[str]:
    """Names after class/struct/union/enum anywhere, but not template type parameters (``template<class T>``)."""
    names = set()
    for index, token in enumerate(tokens):
        if token.text not in CLASS_KEYS and token.text != "enum":
            continue
        at = index + 2 if _next(tokens, index) in CLASS_KEYS else index + 1  # enum class X
        if at < len(tokens) and tokens[at].kind == "id" and tokens[at].text not in KEYWORDS:
            if _next(tokens, at) not in (",", ">", ">>", "=", "..."):
                names.add(tokens[at].text)
    return names


@dataclass
class _Statement:
    first: int  # token indexes, inclusive
    last: int
    body: int | None  # index of the '{' of a function body ending the statement


def _statements(lexed: Lexed) -> list[_Statement]:
    """The program's namespace-scope declarations: up to a ';' or through a function body."""
    tokens, match = lexed.tokens, lexed.match
    statements, index = [], 0
    while index < len(tokens):
        first, cursor, body = index, index, None
        while True:
            if cursor >= len(tokens):
                raise NotMergeable("declaration without an end at the end of the program")
            text = tokens[cursor].text
            if text == ";":
                break
            if text in ("(", "["):
                cursor = match[cursor] + 1
                continue
            if text == "{":
                kind = _brace_kind(tokens, match, first, cursor)
                if kind == "function":
                    body, cursor = cursor, match[cursor]
                    break
                cursor = match[cursor] + 1
                continue
            cursor += 1
        statements.append(_Statement(first, cursor, body))
        index = cursor + 1
    return statements


def _top(tokens: list[Token], match: dict[int, int], first: int, stop: int) -> list[int]:
    """Indexes of the tokens in [first, stop) outside every bracket pair."""
    out, index = [], first
    while index < stop:
        out.append(index)
        index = match[index] + 1 if index in match else index + 1
    return out


def _brace_kind(tokens: list[Token], match: dict[int, int], first: int, brace: int) -> str:
    head = [tokens[i].text for i in _top(tokens, match, first, brace)]
    head = _without_template_headers(head)
    if "=" in head:
        return "initializer"
    if head and (
        head[0] in CLASS_KEYS
        or head[0] == "enum"
        or head[:2] in (["typedef", "struct"], ["typedef", "class"], ["typedef", "union"], ["typedef", "enum"])
    ):
        return "class"
    if "(" in head:
        return "function"
    return "initializer"


def _without_template_headers(texts: list[str]) -> list[str]:
    """Drop leading ``template < ... >`` (the '<' '>' pair is not bracket-matched by the lexer)."""
    while len(texts) > 1 and texts[0] == "template" and texts[1] == "<":
        level, index = 0, 1
        while index < len(texts):
            level += {"<": 1, ">": -1, ">>": -2}.get(texts[index], 0)
            index += 1
            if level <= 0:
                break
        texts = texts[index:]
    return texts


def _declared(
    statement: _Statement, lexed: Lexed, types: set[str], main: int
) -> tuple[set[str], tuple[tuple[int, int, str], ...]]:
    """Names one namespace-scope declaration introduces (a superset); the main rewrite if it is main.

    ``types`` holds the program's own type names (classes, enums, typedefs, aliases): adds the new aliases."""
    tokens, match = lexed.tokens, lexed.match
    stop = statement.body if statement.body is not None else statement.last
    top = _top(tokens, match, statement.first, stop)
    texts = [tokens[i].text for i in top]
    line = tokens[statement.first].line
    if not texts:
        return set(), ()
    if tokens[top[0]].kind != "id":
        raise NotMergeable(f"declaration starting with {texts[0]!r} on line {line}")
    if statement.first <= main <= statement.last:
        return set(), _main_edits(statement, lexed, texts, main)
    inner = _without_template_headers(texts)
    top = top[len(top) - len(inner) :]
    texts = inner
    if not texts:
        raise NotMergeable(f"declaration on line {line}")
    if texts[0] == "using":
        if texts == ["using", "namespace", "std"]:
            return set(), ()
        if len(texts) >= 3 and texts[1] != "namespace" and tokens[top[1]].kind == "id" and texts[2] == "=":
            types.add(texts[1])
            return {texts[1]}, ()
        if texts[-1] not in KEYWORDS and tokens[top[-1]].kind == "id" and "::" in texts and "namespace" not in texts:
            return {texts[-1]}, ()
        raise NotMergeable(f"using-declaration on line {line}")
    if texts[0] == "static_assert":
        return set(), ()
    if (
        texts[0] in CLASS_KEYS
        or texts[0] == "enum"
        or (texts[0] == "typedef" and texts[1:2] and (texts[1] in CLASS_KEYS or texts[1] == "enum"))
    ):
        declared = _class_declaration(tokens, match, top, texts, line)
        if texts[0] == "typedef":
            types.update(declared)
        return declared, ()
    if any(text in CLASS_KEYS or text == "enum" for text in texts):
        raise NotMergeable(f"elaborated class name inside a declaration on line {line}")
    if texts[0] == "typedef":
        if "(" in texts:
            raise NotMergeable(f"function typedef on line {line}")
        declared = _declarator_names(tokens, match, top)
        types.update(declared)
        return declared, ()
    if "(" in texts:
        return _function_declaration(statement, tokens, match, top, texts, line), ()
    _check_static_object(tokens, statement, types, line)
    return _declarator_names(tokens, match, top), ()


def _main_edits(statement: _Statement, lexed: Lexed, texts: list[str], main: int) -> tuple[tuple[int, int, str], ...]:
    tokens = lexed.tokens
    if statement.body is None or tokens[main].depth != 0 or texts not in (["int", "main", "("],):
        raise NotMergeable("main is not a plain `int main()` / `int main(void)` definition")
    params = [t.text for t in tokens[main + 2 : statement.body - 1]]
    if tokens[main + 1].text != "(" or params not in ([], ["void"]) or tokens[statement.body - 1].text != ")":
        raise NotMergeable("main takes parameters")
    opening, closing = tokens[statement.body], tokens[statement.last]
    return (
        (tokens[main].start, tokens[main].end, ENTRY),
        (opening.end, opening.end, "{"),
        (closing.end, closing.end, " return 0;}"),
    )


def _class_declaration(
    tokens: list[Token], match: dict[int, int], top: list[int], texts: list[str], line: int
) -> set[str]:
    """``[typedef] class-key [NAME] [...] [{ body }] [declarators];``: the class name, enumerators, typedef names."""
    typedef = texts[0] == "typedef"
    start = 1 if typedef else 0
    key_end = start + (
        2 if texts[start] == "enum" and texts[start + 1 : start + 2] and texts[start + 1] in CLASS_KEYS else 1
    )
    names = set()
    if key_end < len(texts) and tokens[top[key_end]].kind == "id" and texts[key_end] not in KEYWORDS:
        names.add(texts[key_end])
    elif key_end >= len(texts) or texts[key_end] not in ("{", ":"):  # alignas(...) X, [[attr]] X: not parsed
        raise NotMergeable(f"class head on line {line}")
    braces = [i for i in top if tokens[i].text == "{"]
    if not braces:  # a forward declaration (or an opaque enum with its base)
        if len(texts) > key_end + 1 and texts[key_end + 1] != ":" or typedef:
            raise NotMergeable(f"class declaration on line {line}")
        return names
    brace = braces[0]
    after = [tokens[i].text for i in top if i > brace]
    if texts[start] == "enum" and key_end == start + 1:  # unscoped: enumerators join the namespace
        names |= _enumerators(tokens, match, brace)
    if typedef:
        tail = [i for i in top if i > brace]
        names |= _declarator_names(tokens, match, tail)
    elif after:
        raise NotMergeable(f"object of a class type defined with its class on line {line}")
    return names


def _enumerators(tokens: list[Token], match: dict[int, int], brace: int) -> set[str]:
    names, expect = set(), True
    for index in _top(tokens, match, brace + 1, match[brace]):
        token = tokens[index]
        if expect and token.kind == "id":
            names.add(token.text)
        expect = token.text == ","
    return names


def _function_declaration(
    statement: _Statement, tokens: list[Token], match: dict[int, int], top: list[int], texts: list[str], line: int
) -> set[str]:
    paren = texts.index("(")
    if "=" in texts[:paren] or paren == 0:
        raise NotMergeable(f"initialiser that calls something on line {line}")
    name_at = top[paren - 1]
    name = tokens[name_at]
    if name.kind != "id" or name.text in KEYWORDS:
        raise NotMergeable(f"declarator we do not parse on line {line}")
    qualified = paren >= 2 and texts[paren - 2] == "::"
    owner = tokens[top[paren - 3]] if qualified and paren >= 3 else None
    if qualified and (owner is None or owner.text != ">" and (owner.kind != "id" or owner.text in KEYWORDS)):
        raise NotMergeable(f"globally qualified declaration on line {line}")
    if statement.body is None:
        open_index = top[paren]
        if not _looks_like_parameters(tokens, open_index, match[open_index]):
            raise NotMergeable(f"namespace-scope object with a parenthesised initialiser on line {line}")
        trailing = texts[paren + 1 :]
        if any(
            t not in ("const", "noexcept", "override", "final", "->", "::", "&", "&&", "*", "<", ">", ">>")
            and not t.isidentifier()
            for t in trailing
        ):
            raise NotMergeable(f"declaration on line {line}")
    return set() if qualified else {name.text}


def _looks_like_parameters(tokens: list[Token], opening: int, closing: int) -> bool:
    """A prototype's parameter list (each a type, maybe a name), not an initialiser like ``v(5)``, ``x(n)``, ``y(a*b)``."""
    if closing == opening + 1:
        return True
    params: list[list[Token]] = [[]]
    level = 0
    for token in tokens[opening + 1 : closing]:
        if token.text == "," and level == 0:
            params.append([])
            continue
        level += {"<": 1, "[": 1, ">": -1, "]": -1, ">>": -2}.get(token.text, 0)
        params[-1].append(token)
    for param in params:
        texts = [t.text for t in param]
        if "=" in texts:  # a default argument is evaluated at the call, not at start
            param, texts = param[: texts.index("=")], texts[: texts.index("=")]
        if not param or param[0].kind != "id" or any(t.kind in ("str", "chr") for t in param):
            return False
        if any(
            t.kind == "punct" and t.text not in ("::", "<", ">", ">>", ",", "*", "&", "&&", "[", "]", "...")
            for t in param
        ):
            return False
        if any(t.kind == "num" for t in param) and "[" not in texts and "<" not in texts:
            return False
        adjacent_words = any(a.kind == "id" and b.kind == "id" for a, b in zip(param, param[1:], strict=False))
        typed = (
            any(t in BUILTIN_TYPES or t in ("const", "volatile") for t in texts)
            or "::" in texts
            or "<" in texts
            or adjacent_words
            or texts[-1] in ("*", "&", "&&", "]", "...")
        )
        if not typed:
            return False
    return True


def _check_static_object(tokens: list[Token], statement: _Statement, types: set[str], line: int) -> None:
    """A namespace-scope variable: its initialiser must not call anything, no type of ours may appear (its
    constructor, or a member's, would run at every start of the batch binary)."""
    previous = None
    for token in tokens[statement.first : statement.last + 1]:
        if token.text in ("new", "throw") or token.text in types:
            raise NotMergeable(f"namespace-scope object that may run code at start or exit on line {line}")
        if (
            token.text == "("
            and previous is not None
            and (previous.kind in ("id", "str", "chr", "num") or previous.text in (")", "]", "}", ">", ">>"))
            and previous.text not in ("sizeof", "alignof", "decltype", "noexcept", "return")
        ):
            raise NotMergeable(f"namespace-scope initialiser that calls something on line {line}")
        previous = token


def _declarator_names(tokens: list[Token], match: dict[int, int], top: list[int]) -> set[str]:
    """Identifiers right before ``= , ; [ {`` outside template arguments and initialisers."""
    names, angle, in_initializer = set(), 0, False
    for position, index in enumerate(top):
        token = tokens[index]
        following = tokens[top[position + 1]].text if position + 1 < len(top) else ";"
        if in_initializer:
            if token.text == "," and angle == 0:
                in_initializer = False
            continue
        if token.text == "<" and position > 0 and tokens[top[position - 1]].kind == "id":
            angle += 1
        elif token.text in (">", ">>") and angle > 0:
            angle = max(0, angle - len(token.text))
        elif token.text == "=" and angle == 0:
            in_initializer = True
        elif (
            token.kind == "id" and angle == 0 and token.text not in KEYWORDS and following in ("=", ",", ";", "[", "{")
        ):
            names.add(token.text)
    return names
