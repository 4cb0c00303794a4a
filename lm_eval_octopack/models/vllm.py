"""``octopack-vllm``: lm-eval's vLLM backend, but each distinct prompt is sampled once with ``n``.

Everything except ``generate_until`` is inherited from ``lm_eval.models.vllm_causallms.VLLM``:
construction, tensor parallelism, data parallelism through Ray actors (``_model_generate``
deals prompts round-robin to replicas; an ``n``-sample prompt stays whole on one replica),
chat templates and loglikelihood. The model argument ``seed`` (default 1234) is the base seed
from which every doc's sampling seed is derived (see :mod:`lm_eval_octopack.sampling`).

lm-eval's module imports vLLM at import time, so this module only subclasses it when vLLM
can be imported; otherwise ``OctopackVLLM`` raises a clear error when constructed.
"""

from __future__ import annotations

import logging
from typing import Any

from lm_eval_octopack.sampling import GroupPlan, generate_grouped, texts_from_outputs

log = logging.getLogger(__name__)

try:
    from lm_eval.models.vllm_causallms import VLLM as _VLLMBase

    VLLM_IMPORT_ERROR: ImportError | None = None
except ImportError as error:  # vllm not installed (CPU-only machines, CI)
    VLLM_IMPORT_ERROR = error

    class _VLLMBase:  # type: ignore[no-redef]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise ModuleNotFoundError(
                "model 'octopack-vllm' needs vLLM and a GPU: pip install 'lm-eval-octopack[vllm]' "
                f"(import failed: {VLLM_IMPORT_ERROR})"
            )


def total_budget(max_gen_toks: int, prompt_tokens: int, max_total_tokens: int | None) -> int:
    """New-token budget under a cap on prompt + generation (at least 1 token)."""
    if max_total_tokens is None:
        return max_gen_toks
    return max(1, min(max_gen_toks, max_total_tokens - prompt_tokens))


class OctopackVLLM(_VLLMBase):
    """vLLM with one ``SamplingParams(n=k, seed=...)`` per distinct prompt instead of k copies."""

    def __init__(self, *args: Any, seed: int = 1234, max_total_tokens: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, seed=seed, **kwargs)
        self.base_seed = int(seed)
        # The bigcode reference caps prompt + generation (``--max_length_generation 2048``);
        # lm-eval's max_gen_toks counts new tokens only. max_total_tokens=2048 gives the reference's cap.
        self.max_total_tokens = int(max_total_tokens) if max_total_tokens else None

    def generate_until(self, requests: list, disable_tqdm: bool = False) -> list[str]:
        eos = self._eos_string()
        return generate_grouped(
            requests,
            self._generate_plans,
            base_seed=self.base_seed,
            eos=eos,
            default_max_gen_toks=self.max_gen_toks,
            think_end_token=self.think_end_token,
            cache_hook=self.cache_hook,
        )

    def _eos_string(self) -> str:
        eos = self.tokenizer.decode(self.eot_token_id)
        # Same fallback as lm-eval: some tokenizers decode their EOS id to "".
        if not eos and getattr(self.tokenizer, "eos_token", None):
            eos = self.tokenizer.eos_token
        return eos

    def _generate_plans(self, plans: list[GroupPlan]) -> list[list[str]]:
        from lm_eval.models.utils import maybe_truncate
        from vllm import SamplingParams

        if self.batch_size == 1 and len(plans) > 1:
            log.warning("octopack-vllm: batch_size=1 sends one prompt per generate() call; pass --batch_size auto")
        encodings = self.tok_encode([plan.context for plan in plans])
        prompts, params = [], []
        for plan, tokens in zip(plans, encodings, strict=True):
            tokens, plan.max_gen_toks = maybe_truncate(
                tokens, max_gen_toks=plan.max_gen_toks, max_model_len=self.max_length, side=self.truncation_side
            )
            plan.max_gen_toks = total_budget(plan.max_gen_toks, len(tokens), self.max_total_tokens)
            prompts.append(tokens)
            params.append(SamplingParams(**self._sampling_kwargs(plan)))
        chunk = len(plans) if self.batch_size == "auto" else max(1, int(self.batch_size))
        texts: list[list[str]] = []
        for start in range(0, len(plans), chunk):
            outputs = self._model_generate(
                requests=prompts[start : start + chunk], generate=True, sampling_params=params[start : start + chunk]
            )
            texts.extend(texts_from_outputs(outputs, plans[start : start + chunk]))
        return texts

    def _sampling_kwargs(self, plan: GroupPlan) -> dict[str, Any]:
        kwargs = plan.sampling_params()
        if self.think_end_token:
            # As lm-eval: task stops may occur inside the thinking text, so vLLM stops only at EOS
            # and the task stops are applied afterwards by postprocess_generated_text.
            eos = self._eos_string()
            kwargs["stop"] = [stop for stop in plan.until if stop == eos]
        return kwargs
