"""Post-processing of model continuations, identical to the reference harness (spec §4, §6).

lm-eval hands us only the continuation; the reference slices ``generation[len(prompt):]`` from the decoded full
sequence. Both are assumed equal here (true when decoding the prompt is lossless).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lm_eval_octopack.catalogue import check_scenario
from lm_eval_octopack.language_facts import language_facts

from .prompts import END_OF_TEXT, check_template, prompt_base, stop_words

JAVA_MAIN_SIGNATURE = "public static void main"


def cut_at_stop_words(text: str, words: Sequence[str]) -> str:
    """Cut ``text`` at the first occurrence of each stop word, in list order (= at the earliest one)."""
    for word in words:
        if word in text:
            text = text[: text.find(word)]
    return text


def remove_last_block(code: str, language: str, stop_words: Sequence[str] | None = None) -> str:
    """The reference ``remove_last_block``: stop words, then keep only the first top-level block.

    ``stop_words`` defaults to the language's own list plus ``<|endoftext|>`` (the ``instruct`` template's list).
    Python keeps the lines before the first non-indented, non-empty line. The brace languages count from 1 (Java: 2,
    for the class and method braces already open) and cut where the count reaches 0; braces in strings and comments
    count too, as in the reference.
    """
    lang = language_facts(language)
    words = list(lang.stop_words) + [END_OF_TEXT] if stop_words is None else stop_words
    code = cut_at_stop_words(code, words)
    if language == "python":
        return _first_python_block(code)
    return _first_brace_block(code, java=language == "java")


def _first_python_block(code: str) -> str:
    lines = code.split("\n")
    for i, line in enumerate(lines):
        if line.strip() and line[0] not in (" ", "\t"):
            return "\n".join(lines[:i])
    return code


def _first_brace_block(code: str, java: bool) -> str:
    open_braces = 2 if java else 1
    for i, char in enumerate(code):
        if char == "{":
            open_braces += 1
        elif char == "}":
            open_braces -= 1
        if open_braces == 0:
            return code[: i + 1]
    if java:
        main_pos = code.find(JAVA_MAIN_SIGNATURE)
        if main_pos != -1:
            code = code[:main_pos] + "}"
        code = _cut_after_last_brace(code)
        if code.count("{") - 1 == code.count("}"):
            code += "\n}"
        return code
    return _cut_after_last_brace(code)


def _cut_after_last_brace(code: str) -> str:
    if "}" in code:
        return code[: code.rfind("}")] + "}"
    return code


def final_code(
    doc: Mapping[str, str], scenario: str, language: str, continuation: str, template: str = "instruct"
) -> str:
    """The reference's post-processed final code for one continuation (what its generations JSON stores).

    ``base.rstrip() + remove_last_block(continuation.rstrip())`` where base is :func:`prompts.prompt_base` of the
    scenario, except explainsynthesize, which (like the reference) uses ``doc["prompt"]`` although the model saw the
    declaration. With the ``diff`` template the continuation is a diff-match-patch patch applied to the buggy code
    (needs the ``diff-match-patch`` package); ``diff-carper`` is not implemented.
    """
    check_scenario(scenario)
    if scenario == "explaindescribe":
        raise ValueError("explaindescribe produces descriptions, not code: use postprocess_description")
    check_template(scenario, template)
    if template == "diff-carper":
        raise NotImplementedError(
            "The 'diff-carper' template needs OpenELM's loose diff application (reference custom_metrics/diff_eval.py),"
            " which lm-eval-octopack does not implement; use 'diff' or a non-diff template."
        )
    body = remove_last_block(continuation.rstrip(), language, stop_words(language, scenario, template))
    if template == "diff":
        return apply_commit_diff(prompt_base(doc, scenario, language) + doc["buggy_solution"], body)
    base = doc["prompt"] if scenario == "explainsynthesize" else prompt_base(doc, scenario, language)
    return base.rstrip() + body


def apply_commit_diff(old_code: str, patch_text: str) -> str:
    """Apply a diff-match-patch patch (``diff`` template) to ``old_code``; ``""`` when it cannot be applied."""
    try:
        from diff_match_patch import diff_match_patch
    except ImportError as error:
        raise ImportError("The 'diff' template needs the diff-match-patch package: pip install diff-match-patch") from (
            error
        )
    dmp = diff_match_patch()
    try:
        patches = dmp.patch_fromText(patch_text.lstrip())
        fixed_code, _ = dmp.patch_apply(patches, old_code)
    except Exception:  # the reference maps any failure to an empty program
        return ""
    return fixed_code


def remove_code(text: str, canonical_solution: str) -> str:
    """Delete every canonical-solution line (stripped, longer than 20 characters) quoted verbatim in ``text``."""
    for line in canonical_solution.split("\n"):
        line = line.strip()
        if len(line) > 20 and line in text:
            text = text.replace(line, "")
    return text


def postprocess_description(
    doc: Mapping[str, str], language: str, continuation: str, template: str = "instruct"
) -> str:
    """Explain-describe post-processing in the reference order (spec §4.2).

    strip, hard cut to ``len(doc["docstring"])`` characters, cut at stop words, rstrip, then :func:`remove_code`.
    """
    text = continuation.strip()[: len(doc["docstring"])]
    text = cut_at_stop_words(text, stop_words(language, "explaindescribe", template)).rstrip()
    return remove_code(text, doc["canonical_solution"])
