"""INSTRUCTEVAL's shot-dropping rule and the tokenizer it needs.

While ``len(tokenizer(prompt).input_ids) > 2048`` (BOS included, the model's own tokenizer)
and shots remain, the reference drops the *last* shot and retries; the test part is never cut.
The rule runs while prompts are materialised in ``custom_dataset``, so it needs the tokenizer
from task metadata: ``tokenizer`` if given, else ``pretrained`` (with ``gguf_file`` when the model is
a GGUF file, as lm-eval's ``hf`` loads it). The lm-eval CLI merges ``--model_args`` into metadata, so
``--model hf --model_args pretrained=...`` is enough; ``simple_evaluate(task_manager=...)`` does not,
so there the tokenizer must be named in the TaskManager's metadata (``plugin.task_manager`` takes
``model_args`` for that). A prompt with shots to consider and no tokenizer named is an error
(:class:`MissingTokenizerError`), never a silent "keep every shot": ``instructeval_truncate=false``
asks for that explicitly.

Metadata knobs: ``tokenizer``, ``pretrained``, ``gguf_file``, ``use_fast_tokenizer`` (default true),
``trust_remote_code``, ``max_prompt_tokens`` (default 2048), ``instructeval_truncate`` (default true).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

MAX_PROMPT_TOKENS = 2048
FitsCheck = Callable[[str], bool]


def _truthy(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() not in {"0", "false", "no", "off", ""}
    return bool(value)


class MissingTokenizerError(RuntimeError):
    """Shots would be kept or dropped by token count, but no tokenizer is named."""


MISSING_TOKENIZER_MESSAGE = (
    "INSTRUCTEVAL drops shots from prompts over {limit} tokens of the model's own tokenizer, but no tokenizer "
    "is named in the task metadata. The lm-eval CLI passes --model_args (pretrained=...) on; through the Python "
    'API pass it yourself: plugin.task_manager(metadata={{"tokenizer": "<model path or id>"}}) or '
    'plugin.task_manager(model_args="pretrained=...") (or --metadata tokenizer=...). To keep every shot '
    "instead (not the reference protocol), set metadata instructeval_truncate=false."
)


@lru_cache(maxsize=4)
def _load_tokenizer(name: str, gguf_file: str | None, use_fast: bool, trust_remote_code: bool):  # noqa: ANN202
    try:
        from transformers import AutoTokenizer
    except ImportError as exc:
        raise RuntimeError(
            "INSTRUCTEVAL shot dropping needs `transformers` to count tokens; install it or pass "
            "--metadata instructeval_truncate=false"
        ) from exc
    if gguf_file:  # the tokenizer is embedded in the GGUF file (lm-eval's hf model loads it the same way)
        return AutoTokenizer.from_pretrained(name, gguf_file=gguf_file, trust_remote_code=trust_remote_code)
    return AutoTokenizer.from_pretrained(name, use_fast=use_fast, trust_remote_code=trust_remote_code)


def tokenizer_source(metadata: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """(name or path, GGUF file name or None) of the tokenizer the metadata names, as lm-eval's ``hf`` picks it."""
    explicit = metadata.get("tokenizer")
    if isinstance(explicit, str) and explicit:
        return explicit, None
    pretrained = metadata.get("pretrained")
    if isinstance(pretrained, str) and pretrained:
        gguf_file = metadata.get("gguf_file")
        return pretrained, str(gguf_file) if gguf_file else None
    return None


def _missing_tokenizer(limit: int) -> FitsCheck:
    def fits(prompt: str) -> bool:
        raise MissingTokenizerError(MISSING_TOKENIZER_MESSAGE.format(limit=limit))

    return fits


def fits_check(metadata: Mapping[str, Any]) -> FitsCheck | None:
    """A predicate ``prompt -> fits within max_prompt_tokens``; None when truncation is switched off.

    Without a tokenizer the predicate raises :class:`MissingTokenizerError` the first time a prompt has a shot
    to consider, so 0-shot tasks need none and few-shot tasks never silently keep every shot.
    """
    if not _truthy(metadata.get("instructeval_truncate"), True):
        return None
    limit = int(metadata.get("max_prompt_tokens") or MAX_PROMPT_TOKENS)
    source = tokenizer_source(metadata)
    if source is None:
        return _missing_tokenizer(limit)
    tokenizer = _load_tokenizer(
        *source,
        _truthy(metadata.get("use_fast_tokenizer"), True),
        _truthy(metadata.get("trust_remote_code"), False),
    )
    return lambda prompt: len(tokenizer(prompt).input_ids) <= limit


def fit_shots(header: str, shots: Sequence[str], test_part: str, fits: FitsCheck | None) -> tuple[str, int]:
    """``header + shots[:k] + test_part`` for the largest k (starting at all shots) that fits."""
    k = len(shots)
    prompt = header + "".join(shots[:k]) + test_part
    while fits is not None and k > 0 and not fits(prompt):
        k -= 1
        prompt = header + "".join(shots[:k]) + test_part
    return prompt, k
