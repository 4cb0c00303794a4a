"""``octopack-vllm``: lm-eval's vLLM backend, but each distinct prompt is sampled once with ``n``.

Everything except ``generate_until`` is inherited from ``lm_eval.models.vllm_causallms.VLLM``:
construction, tensor parallelism, data parallelism through Ray actors (``_model_generate``
deals prompts round-robin to replicas; an ``n``-sample prompt stays whole on one replica),
chat templates and loglikelihood.

Differences from lm-eval's ``generate_until``:

* every request of a ``generate_until`` call goes to vLLM in **one** ``generate()`` call,
  whatever ``batch_size`` says (vLLM schedules itself; ``max_num_seqs`` bounds its batch);
* prompt budget: the cap on prompt + generation (``max_total_tokens``, else ``max_model_len``)
  is applied first and a prompt that fits is never truncated (see :func:`prompt_budget`);
  a prompt that cannot fit is not sent: its samples are empty and a warning names the doc;
* seeds: by default requests carry no seed (vLLM's fast sampler; the engine seed ``seed``
  fixes the stream of one whole run). ``per_request_seed=True`` gives each doc its own seed
  derived from (``seed``, task, doc_id, prompt), see :mod:`lm_eval_octopack.sampling`.
* stop strings: an empty one (a task's ``""``, an EOS that decodes to nothing) is not sent, as
  vLLM's ``SamplingParams`` rejects it (lm-eval's post-processing ignores it anyway).

lm-eval's module imports vLLM at import time, so this module only subclasses it when vLLM
can be imported; otherwise ``OctopackVLLM`` raises a clear error when constructed.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
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


def gpu_missing_reason() -> str | None:
    """Why a real vLLM engine cannot run here (vLLM missing or not importable, no CUDA GPU), else None."""
    if VLLM_IMPORT_ERROR is not None:
        if importlib.util.find_spec("vllm") is None:
            return "vllm is not installed (pip install 'lm-eval-octopack[vllm]')"
        return f"vllm is installed but lm-eval's vLLM backend does not import: {VLLM_IMPORT_ERROR}"
    import torch

    if not torch.cuda.is_available():
        return "no CUDA GPU is visible"
    return None


@dataclass(frozen=True)
class PromptBudget:
    """New tokens one prompt may generate, or why it cannot be sent at all."""

    max_tokens: int
    error: str | None = None


def prompt_budget(
    prompt_tokens: int, max_gen_toks: int, max_model_len: int, max_total_tokens: int | None = None
) -> PromptBudget:
    """Budget of one prompt: the total cap first, the prompt kept whole, generation gets what is left.

    The cap on prompt + generation is ``max_total_tokens`` (the reference's ``max_length_generation``)
    bounded by ``max_model_len``. A prompt that leaves no room for one new token gets an error instead
    of being cut: a truncated prompt is not the problem the reference scores.
    """
    limit = max_model_len if max_total_tokens is None else min(max_model_len, max_total_tokens)
    room = limit - prompt_tokens
    if room < 1:
        return PromptBudget(0, f"prompt of {prompt_tokens} tokens leaves no room to generate under {limit} tokens")
    return PromptBudget(min(max_gen_toks, room))


class OctopackVLLM(_VLLMBase):
    """vLLM with one ``SamplingParams(n=k)`` per distinct prompt instead of k copies, all in one call."""

    def __init__(
        self,
        *args: Any,
        seed: int = 1234,
        max_total_tokens: int | None = None,
        per_request_seed: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, seed=seed, **kwargs)
        self.base_seed = int(seed)
        # The bigcode reference caps prompt + generation (``--max_length_generation 2048``);
        # lm-eval's max_gen_toks counts new tokens only. max_total_tokens=2048 gives the reference's cap.
        self.max_total_tokens = int(max_total_tokens) if max_total_tokens else None
        self.per_request_seed = _as_bool(per_request_seed)
        if self.batch_size != "auto":
            log.info(
                "octopack-vllm: batch_size=%s is ignored for generation; vLLM gets every request at once",
                self.batch_size,
            )

    def generate_until(self, requests: list, disable_tqdm: bool = False) -> list[str]:
        return generate_grouped(
            requests,
            self._generate_plans,
            base_seed=self.base_seed,
            eos=self._eos_string(),
            default_max_gen_toks=self.max_gen_toks,
            think_end_token=self.think_end_token,
            cache_hook=self.cache_hook,
            seeded=self.per_request_seed,
        )

    def _eos_string(self) -> str:
        eos = self.tokenizer.decode(self.eot_token_id)
        # Same fallback as lm-eval: some tokenizers decode their EOS id to "".
        if not eos and getattr(self.tokenizer, "eos_token", None):
            eos = self.tokenizer.eos_token
        return eos

    def _generate_plans(self, plans: list[GroupPlan]) -> list[list[str]]:
        from vllm import SamplingParams

        texts: list[list[str]] = [[""] * plan.n for plan in plans]
        sent, prompts, params = [], [], []
        for index, (plan, tokens) in enumerate(zip(plans, self.tok_encode([p.context for p in plans]), strict=True)):
            budget = prompt_budget(len(tokens), plan.max_gen_toks, self.max_length, self.max_total_tokens)
            plan.max_gen_toks = budget.max_tokens
            if budget.error:
                log.warning(
                    "octopack-vllm: %s doc %s not generated (%d empty samples): %s",
                    plan.task_name,
                    plan.doc_id,
                    plan.repeats,
                    budget.error,
                )
                continue
            sent.append(index)
            prompts.append(tokens)
            params.append(SamplingParams(**self._sampling_kwargs(plan)))
        if prompts:
            outputs = self._model_generate(requests=prompts, generate=True, sampling_params=params)
            for index, completions in zip(sent, texts_from_outputs(outputs, [plans[i] for i in sent]), strict=True):
                texts[index] = completions
        return texts

    def _sampling_kwargs(self, plan: GroupPlan) -> dict[str, Any]:
        kwargs = plan.sampling_params()
        stops = plan.until
        if self.think_end_token:
            # As lm-eval: task stops may occur inside the thinking text, so vLLM stops only at EOS
            # and the task stops are applied afterwards by postprocess_generated_text.
            stops = [stop for stop in stops if stop == self._eos_string()]
        # vLLM's SamplingParams rejects "" (an EOS that decodes to nothing, a task's empty stop);
        # postprocess_generated_text ignores it too.
        kwargs["stop"] = [stop for stop in stops if stop]
        return kwargs


def _as_bool(value: Any) -> bool:
    """lm-eval passes ``--model_args`` values as strings ("True", "false") or already parsed."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)
