"""An HF backend that scores INSTRUCTEVAL HHH requests with the reference's token split.

INSTRUCTEVAL reads the logits at ``tokenizer("A", add_special_tokens=False).input_ids[0]``
right after the *whole* prompt, trailing space included (for LLaMA the prompt ends in the
token ``▁`` and the letter is ``▁A``). lm-eval's ``_encode_pair`` instead moves the context's
trailing whitespace into the continuation, so a standard backend scores ``" A"`` after
``"Choice:"``: a close but different quantity.

:class:`OctopackHFLM` keeps lm-eval's behaviour for every other request and, for requests of
tasks named ``instructeval_hhh*``, encodes the context as-is (BOS per the model's setting) and
the continuation on its own without special tokens. Registered as ``octopack-hf``.
"""

from __future__ import annotations

from lm_eval.api.instance import Instance
from lm_eval.models.huggingface import HFLM

from lm_eval_octopack.heldout.hhh_task import EXACT_SPLIT_TASK_PREFIX


def needs_exact_split(request: Instance) -> bool:
    return bool(request.task_name) and request.task_name.startswith(EXACT_SPLIT_TASK_PREFIX)


class OctopackHFLM(HFLM):
    def exact_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        return self.tok_encode(context), self.tok_encode(continuation, add_special_tokens=False)

    def loglikelihood(self, requests: list[Instance], disable_tqdm: bool = False) -> list[tuple[float, bool]]:
        exact_ids = [i for i, request in enumerate(requests) if needs_exact_split(request)]
        if not exact_ids:
            return super().loglikelihood(requests, disable_tqdm=disable_tqdm)
        exact = set(exact_ids)
        other_ids = [i for i in range(len(requests)) if i not in exact]
        results: list[tuple[float, bool] | None] = [None] * len(requests)
        if other_ids:
            scored = super().loglikelihood([requests[i] for i in other_ids], disable_tqdm=disable_tqdm)
            for i, value in zip(other_ids, scored, strict=True):
                results[i] = value
        encoded = [(requests[i].args, *self.exact_pair(*requests[i].args)) for i in exact_ids]
        for i, value in zip(exact_ids, self._loglikelihood_tokens(encoded, disable_tqdm=disable_tqdm), strict=True):
            results[i] = value
        return results  # type: ignore[return-value]
