"""INSTRUCTEVAL's shot-dropping rule and the tokenizer it needs.

While ``len(tokenizer(prompt).input_ids) > 2048`` (BOS included, the model's own tokenizer)
and shots remain, the reference drops the *last* shot and retries; the test part is never cut.
The rule runs while prompts are materialised in ``custom_dataset``, so it needs the tokenizer
from task metadata: ``tokenizer`` if given, else ``pretrained`` (lm-eval merges ``--model_args``
into metadata, so ``--model hf --model_args pretrained=...`` is enough). Without either, every
prompt keeps all its shots.

Metadata knobs: ``tokenizer``, ``pretrained``, ``use_fast_tokenizer`` (default true),
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


@lru_cache(maxsize=4)
def _load_tokenizer(name: str, use_fast: bool, trust_remote_code: bool):  # noqa: ANN202
    try:
        from transformers import AutoTokenizer
    except ImportError as exc:
        raise RuntimeError(
            "INSTRUCTEVAL shot dropping needs `transformers` to count tokens; install it or pass "
            "--metadata instructeval_truncate=false"
        ) from exc
    return AutoTokenizer.from_pretrained(name, use_fast=use_fast, trust_remote_code=trust_remote_code)


def fits_check(metadata: Mapping[str, Any]) -> FitsCheck | None:
    """A predicate ``prompt -> fits within max_prompt_tokens``, or None when no tokenizer is configured."""
    name = metadata.get("tokenizer") or metadata.get("pretrained")
    if not name or not isinstance(name, str) or not _truthy(metadata.get("instructeval_truncate"), True):
        return None
    tokenizer = _load_tokenizer(
        name,
        _truthy(metadata.get("use_fast_tokenizer"), True),
        _truthy(metadata.get("trust_remote_code"), False),
    )
    limit = int(metadata.get("max_prompt_tokens") or MAX_PROMPT_TOKENS)
    return lambda prompt: len(tokenizer(prompt).input_ids) <= limit


def fit_shots(header: str, shots: Sequence[str], test_part: str, fits: FitsCheck | None) -> tuple[str, int]:
    """``header + shots[:k] + test_part`` for the largest k (starting at all shots) that fits."""
    k = len(shots)
    prompt = header + "".join(shots[:k]) + test_part
    while fits is not None and k > 0 and not fits(prompt):
        k -= 1
        prompt = header + "".join(shots[:k]) + test_part
    return prompt, k
