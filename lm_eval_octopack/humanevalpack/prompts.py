"""HumanEvalPack prompts, byte-identical to the reference harness (bigcode-evaluation-harness ``humanevalpack.py``).

Every function here is a pure function of a dataset row (a dict with the HumanEvalPack fields) and strings.

Templates (the reference ``--prompt`` values) and where they are valid:

* generic templates, every scenario: instruct, octocoder, octogeex, starchat, starcodercommit, instructcodet5p,
  wizardcoder, codellama, deepseek, tulu, gritlm, zephyr, yi, starchat2, codeqwen, codegemma, codellama-70b, aurora-m;
* ``continue``: synthesize only (the reference asserts there is no context);
* fix-only templates, fixtests and fixdocs only: file, diff, diff-carper, issue. In the fix scenarios
  ``starcodercommit`` also uses its fix-specific form (the buggy code goes in ``<commit_before>``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from lm_eval_octopack.catalogue import check_scenario
from lm_eval_octopack.language_facts import language_facts

_INSTRUCTION_PREAMBLE = (
    "Below is an instruction that describes a task. Write a response that appropriately completes the request."
)
_DEEPSEEK_SYSTEM = (
    "You are an AI programming assistant, utilizing the Deepseek Coder model, developed by Deepseek Company, and you "
    "only answer questions related to computer science. For politically sensitive questions, security and privacy "
    "issues, and other non-computer science questions, you will refuse to answer"
)

# (inp, prompt_base) -> prompt, before the final strip.
_GENERIC: dict[str, Callable[[str, str], str]] = {
    "continue": lambda inp, pb: pb,
    "instruct": lambda inp, pb: f"{inp}\n\n{pb}",
    "octocoder": lambda inp, pb: f"Question: {inp}\n\nAnswer:\n{pb}",
    "octogeex": lambda inp, pb: f"Question: {inp.strip()}\n\nAnswer:\n{pb}",
    "starchat": lambda inp, pb: f"<|system|>\n<|end|>\n<|user|>\n{inp}<|end|>\n<|assistant|>\n{pb}",
    "starcodercommit": lambda inp, pb: f"<commit_before><commit_msg>{inp}<commit_after>{pb}",
    "instructcodet5p": lambda inp, pb: f"{_INSTRUCTION_PREAMBLE}\n\n### Instruction:\n{inp}\n\n### Response:{pb}",
    "wizardcoder": lambda inp, pb: f"{_INSTRUCTION_PREAMBLE}\n\n### Instruction:\n{inp}\n\n### Response:\n{pb}",
    "codellama": lambda inp, pb: f"[INST] {inp.strip()} [/INST] {pb}",
    "deepseek": lambda inp, pb: f"{_DEEPSEEK_SYSTEM}\n### Instruction:\n{inp.strip()}\n### Response:\n{pb}",
    "tulu": lambda inp, pb: f"<|user|>\n{inp}\n<|assistant|>\n{pb}",
    "gritlm": lambda inp, pb: f"<|user|>\n{inp}\n<|assistant|>\n{pb}",
    "zephyr": lambda inp, pb: f"<|user|>\n{inp}</s>\n<|assistant|>\n{pb}",
    "yi": lambda inp, pb: f"<|im_start|>user\n{inp}<|im_end|>\n<|im_start|>assistant\n{pb}",
    "starchat2": lambda inp, pb: f"<|im_start|>user\n{inp}<|im_end|>\n<|im_start|>assistant\n{pb}",
    "codeqwen": lambda inp, pb: f"<|im_start|>user\n{inp}<|im_end|>\n<|im_start|>assistant\n{pb}",
    "codegemma": lambda inp, pb: f"<start_of_turn>user\n{inp}<end_of_turn>\n<start_of_turn>model\n{pb}",
    "codellama-70b": lambda inp, pb: f"Source: user\n\n {inp.strip()} Source: assistant\nDestination: user \n\n{pb}",
    "aurora-m": lambda inp, pb: f"### Instruction:\n{inp}\n### Response:\n{pb}",
}
_CONTEXT_FIRST = ("continue", "instruct")
FIX_ONLY_TEMPLATES: tuple[str, ...] = ("file", "diff", "diff-carper", "issue")
FIX_SCENARIOS: tuple[str, ...] = ("fixtests", "fixdocs")

#: Every template name the reference accepts for ``--prompt``.
TEMPLATES: tuple[str, ...] = tuple(_GENERIC) + FIX_ONLY_TEMPLATES

#: Extra stop words a template adds after the language's own ones (``<|endoftext|>`` always comes last).
_TEMPLATE_STOP_EXTRAS: dict[str, tuple[str, ...]] = {"starchat": ("<|end|>",), "issue": ("```",)}
#: Templates whose stop words replace the language's ones.
_TEMPLATE_STOP_REPLACEMENTS: dict[str, tuple[str, ...]] = {
    "diff": ("<commit_before>", "<commit_msg>", "<commit_after>"),
    "diff-carper": ("<BEF>", "<MSG>", "<DFF>", "\\ No newline at end of file"),
}
END_OF_TEXT = "<|endoftext|>"


def templates_for(scenario: str) -> tuple[str, ...]:
    """The templates valid for ``scenario``."""
    check_scenario(scenario)
    if scenario in FIX_SCENARIOS:
        return tuple(name for name in TEMPLATES if name != "continue")
    if scenario == "synthesize":
        return tuple(_GENERIC)
    return tuple(name for name in _GENERIC if name != "continue")


def check_template(scenario: str, template: str) -> str:
    """Return ``template`` unchanged, or raise ``ValueError`` saying which templates ``scenario`` accepts."""
    valid = templates_for(scenario)
    if template not in valid:
        known = "known" if template in TEMPLATES else "unknown"
        raise ValueError(
            f"Template {template!r} ({known}) is not valid for HumanEvalPack scenario {scenario!r}; "
            f"valid templates: {', '.join(valid)}"
        )
    return template


def prompt_base(doc: Mapping[str, str], scenario: str, language: str) -> str:
    """The code the model continues (spec §3.1): the docstring prompt for fixdocs/synthesize, else the declaration.

    Rust declarations get ``fn main(){}\\n`` in front (Rust prompts already start with it).
    """
    check_scenario(scenario)
    language_facts(language)
    if scenario in ("fixdocs", "synthesize"):
        return doc["prompt"]
    if language == "rust":
        return "fn main(){}\n" + doc["declaration"]
    return doc["declaration"]


def instruction_and_context(
    doc: Mapping[str, str], scenario: str, language: str, description: str | None = None
) -> tuple[str, str | None]:
    """The scenario's instruction and its context (``None`` for synthesize), as the reference builds them."""
    base = prompt_base(doc, scenario, language)
    if scenario in FIX_SCENARIOS:
        context = base + doc["buggy_solution"]
        if scenario == "fixtests":
            context += "\n" + doc["test"]
        return f"Fix bugs in {doc['entry_point']}.", context
    if scenario == "explaindescribe":
        instruction = (
            "Provide a concise natural language description of the code using at most "
            f"{len(doc['docstring'])} characters."
        )
        return instruction, base + doc["canonical_solution"]
    if scenario == "explainsynthesize":
        return (
            f"Write functional code in {language_facts(language).display_name} according to the description.",
            _description(doc, description),
        )
    return doc["instruction"].strip(), None


def _description(doc: Mapping[str, str], description: str | None) -> str:
    if description is not None:
        return description
    if "description" in doc:
        return doc["description"]
    raise ValueError("explainsynthesize needs the description: pass description=... or a doc with a 'description'")


def _model_input(template: str, instruction: str, context: str | None) -> str:
    if context is None:
        return instruction
    if template in _CONTEXT_FIRST:
        return context + "\n" + instruction
    return instruction + "\n" + context


def build_prompt(
    doc: Mapping[str, str],
    scenario: str,
    language: str,
    template: str = "instruct",
    description: str | None = None,
) -> str:
    """The final (stripped) prompt the model sees, identical to the reference ``get_prompt``."""
    check_template(scenario, template)
    instruction, context = instruction_and_context(doc, scenario, language, description)
    base = prompt_base(doc, scenario, language)
    if scenario in FIX_SCENARIOS and template in FIX_ONLY_TEMPLATES + ("starcodercommit",):
        return _fix_prompt(doc, language, template, instruction, context or "", base).strip()
    if scenario == "explaindescribe":
        base = ""  # the model writes prose, not code
    return _GENERIC[template](_model_input(template, instruction, context), base).strip()


def _fix_prompt(doc: Mapping[str, str], language: str, template: str, instruction: str, context: str, base: str) -> str:
    file_name = f"{doc['entry_point']}.{language_facts(language).file_extension}"
    if template == "file":
        return (
            f"<file_name>\n{file_name}\n<commit_before>\n{context}\n<commit_msg>\n{instruction}<commit_after>\n{base}"
        )
    if template == "starcodercommit":
        return f"<commit_before>{context}<commit_msg>{instruction}<commit_after>{base}"
    if template == "diff":
        return f"<commit_before>{context}<commit_msg>{instruction}<commit_after>"
    if template == "diff-carper":
        return f"<NME> {file_name}\n<BEF> {context}\n<MSG> {instruction}\n<DFF>"
    return (
        f"<issue_start>username_0: {instruction}\n\n```{context}```\nUpvotes: 100<issue_comment>username_1: "
        f"Sure, here is the fixed code.\n\n```{base}"
    )


def build_encoder_prompt(
    doc: Mapping[str, str],
    scenario: str,
    language: str,
    template: str = "instructcodet5p",
    description: str | None = None,
) -> str:
    """Encoder input for encoder-decoder models (reference ``get_prompt_encoder``; only ``instructcodet5p``).

    The decoder prefix is :func:`build_prompt`. The reference has no encoder prompt for the fix scenarios.
    """
    if template != "instructcodet5p":
        raise ValueError(f"Encoder prompts exist only for template 'instructcodet5p', not {template!r}")
    if scenario in FIX_SCENARIOS:
        raise ValueError(f"The reference defines no encoder prompt for {scenario!r}")
    instruction, context = instruction_and_context(doc, scenario, language, description)
    return _GENERIC[template](_model_input(template, instruction, context), "").strip()


def stop_words(language: str, scenario: str, template: str) -> list[str]:
    """Stop words in the reference order: language words, template extras, then ``<|endoftext|>``.

    (At generation time the reference also appends the tokenizer's EOS; lm-eval adds that itself.)
    """
    check_template(scenario, template)
    if template in _TEMPLATE_STOP_REPLACEMENTS:
        words = list(_TEMPLATE_STOP_REPLACEMENTS[template])
    else:
        words = list(language_facts(language).stop_words) + list(_TEMPLATE_STOP_EXTRAS.get(template, ()))
    return words + [END_OF_TEXT]


def chat_messages(
    doc: Mapping[str, str], scenario: str, language: str, description: str | None = None
) -> tuple[str, str]:
    """``(user message, assistant prefix)`` for a chat-template mode. NOT reference parity.

    The reference never applies a tokenizer chat template (spec §9.21); this mode is our addition. The user message
    is the ``instruct`` input (context, newline, instruction); the assistant prefix is the code to continue
    (:func:`prompt_base` right-stripped, as in the reference prompts; empty for explaindescribe). Post-processing
    and :func:`postprocess.final_code` work unchanged on the continuation of that prefix.
    """
    instruction, context = instruction_and_context(doc, scenario, language, description)
    user = _model_input("instruct", instruction, context).strip()
    prefix = "" if scenario == "explaindescribe" else prompt_base(doc, scenario, language).rstrip()
    return user, prefix
