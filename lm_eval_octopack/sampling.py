"""Backend-neutral n-sampling for lm-eval ``generate_until`` requests.

lm-eval turns ``repeats: N`` into N references to the same ``Instance`` and its vLLM backend
sends each one as its own prompt with ``SamplingParams(n=1)``. Here identical requests are
grouped, each group is sent once with ``n = len(group)``, and the ``n`` texts are spread back
to the original positions. With ``seeded=True`` each group also carries a seed derived only from
(base seed, task, doc_id, context): it does not depend on batch composition, ``--limit`` or other
tasks in the same call, so the same doc gets the same sampling noise wherever it is evaluated
(bitwise-equal texts also need batch-invariant kernels, see README). Unseeded groups leave the
noise to the engine's global generator. Nothing here imports vLLM.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lm_eval.models.utils import handle_stop_sequences, normalize_gen_kwargs, postprocess_generated_text

SEED_BITS = 63
_VLLM_DEFAULTS = {"skip_special_tokens": False, "spaces_between_special_tokens": False}


@dataclass
class GroupPlan:
    """One distinct prompt and the request positions it serves."""

    indices: list[int]
    context: str
    gen_kwargs: dict[str, Any]
    task_name: str | None
    doc_id: int | None
    seed: int | None
    until: list[str]
    max_gen_toks: int
    sampling_kwargs: dict[str, Any] = field(default_factory=dict)
    greedy: bool = False

    @property
    def repeats(self) -> int:
        return len(self.indices)

    @property
    def n(self) -> int:
        """Samples to ask the backend for: greedy decoding returns one text, copied to every slot."""
        return 1 if self.greedy else self.repeats

    def sampling_params(self) -> dict[str, Any]:
        """Keyword arguments for ``vllm.SamplingParams`` (no ``seed`` key for an unseeded group)."""
        params = {**self.sampling_kwargs, "n": self.n, "max_tokens": self.max_gen_toks, "stop": self.until}
        if self.seed is not None:
            params["seed"] = self.seed
        return params

    def cache_gen_kwargs(self) -> dict[str, Any]:
        """What lm-eval's vLLM backend passes to ``cache_hook.add_partial`` as gen_kwargs."""
        return self.sampling_kwargs | {"until": self.until, "max_gen_toks": self.max_gen_toks}


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr, separators=(",", ":"))


def context_hash(context: str) -> str:
    return hashlib.sha256(context.encode("utf-8")).hexdigest()


def derive_seed(base_seed: int, task_name: str | None, doc_id: int | None, context: str) -> int:
    """A seed that depends only on what identifies one doc's prompt, never on batch position."""
    material = "\x1f".join([str(int(base_seed)), str(task_name), str(doc_id), context_hash(context)])
    digest = hashlib.sha256(material.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << SEED_BITS) - 1)


def vllm_gen_kwargs(
    gen_kwargs: dict[str, Any], eos: str | None, default_max_gen_toks: int
) -> tuple[dict[str, Any], list[str], int]:
    """Same normalisation as lm-eval's ``VLLM.modify_gen_kwargs`` (0.4.13), without importing vLLM."""
    kwargs = normalize_gen_kwargs(gen_kwargs, default_max_gen_toks=default_max_gen_toks)
    until = handle_stop_sequences(kwargs.pop("until", None), eos=eos)
    max_gen_toks = int(kwargs.pop("max_gen_toks", default_max_gen_toks))
    kwargs.pop("do_sample", None)
    return _VLLM_DEFAULTS | kwargs, until, max_gen_toks


def is_greedy(sampling_kwargs: dict[str, Any]) -> bool:
    temperature = sampling_kwargs.get("temperature")
    return temperature is not None and float(temperature) == 0.0


def _request_key(request: Any) -> tuple[str, str, str | None, int | None]:
    context, gen_kwargs = request.args
    return (context, canonical_json(gen_kwargs), getattr(request, "task_name", None), getattr(request, "doc_id", None))


def group_requests(requests: Sequence[Any]) -> list[list[int]]:
    """Positions of identical requests (same context, gen_kwargs, task and doc), in first-seen order."""
    groups: dict[tuple, list[int]] = {}
    for position, request in enumerate(requests):
        groups.setdefault(_request_key(request), []).append(position)
    return list(groups.values())


def plan_groups(
    requests: Sequence[Any], *, base_seed: int, eos: str | None, default_max_gen_toks: int, seeded: bool = True
) -> list[GroupPlan]:
    """One :class:`GroupPlan` per distinct request.

    ``seeded`` gives every group a derived seed. A ``seed`` in gen_kwargs replaces ``base_seed`` and
    seeds that group even when ``seeded`` is off: the task or user asked for it explicitly.
    """
    plans = []
    for indices in group_requests(requests):
        first = requests[indices[0]]
        context, gen_kwargs = first.args
        sampling_kwargs, until, max_gen_toks = vllm_gen_kwargs(gen_kwargs, eos, default_max_gen_toks)
        explicit_seed = sampling_kwargs.pop("seed", None)
        group_base_seed = base_seed if explicit_seed is None else explicit_seed
        task_name, doc_id = getattr(first, "task_name", None), getattr(first, "doc_id", None)
        plans.append(
            GroupPlan(
                indices=indices,
                context=context,
                gen_kwargs=gen_kwargs,
                task_name=task_name,
                doc_id=doc_id,
                seed=derive_seed(group_base_seed, task_name, doc_id, context)
                if seeded or explicit_seed is not None
                else None,
                until=until,
                max_gen_toks=max_gen_toks,
                sampling_kwargs=sampling_kwargs,
                greedy=is_greedy(sampling_kwargs),
            )
        )
    return plans


def texts_from_outputs(outputs: Sequence[Any], plans: Sequence[GroupPlan]) -> list[list[str]]:
    """Texts per plan from vLLM ``RequestOutput`` objects (``.outputs[j].text``), checking the counts."""
    if len(outputs) != len(plans):
        raise RuntimeError(f"backend returned {len(outputs)} outputs for {len(plans)} prompts")
    texts = []
    for output, plan in zip(outputs, plans, strict=True):
        completions = [completion.text for completion in output.outputs]
        if len(completions) != plan.n:
            raise RuntimeError(f"backend returned {len(completions)} samples, expected n={plan.n}")
        texts.append(completions)
    return texts


def spread_outputs(
    plans: Sequence[GroupPlan],
    texts_per_plan: Sequence[Sequence[str]],
    n_requests: int,
    think_end_token: str | None = None,
) -> list[str]:
    """Put sample j of each group at the group's j-th request position, cut at the stop strings."""
    results: list[str | None] = [None] * n_requests
    for plan, texts in zip(plans, texts_per_plan, strict=True):
        samples = list(texts) * plan.repeats if plan.greedy else list(texts)
        for position, text in zip(plan.indices, samples, strict=True):
            results[position] = postprocess_generated_text(text, plan.until, think_end_token)
    missing = [i for i, text in enumerate(results) if text is None]
    if missing:
        raise RuntimeError(f"no generation for request positions {missing[:10]}")
    return results  # type: ignore[return-value]


def generate_grouped(
    requests: Sequence[Any],
    generate: Callable[[list[GroupPlan]], list[list[str]]],
    *,
    base_seed: int,
    eos: str | None,
    default_max_gen_toks: int,
    think_end_token: str | None = None,
    cache_hook: Any = None,
    seeded: bool = True,
) -> list[str]:
    """Plan groups, call ``generate(plans) -> texts per plan``, return one text per request in order.

    ``generate`` may lower a plan's ``max_gen_toks`` (prompt budget) before sampling.
    """
    plans = plan_groups(
        requests, base_seed=base_seed, eos=eos, default_max_gen_toks=default_max_gen_toks, seeded=seeded
    )
    texts = generate(plans) if plans else []
    results = spread_outputs(plans, texts, len(requests), think_end_token)
    if cache_hook is not None:
        for plan in plans:
            for position in plan.indices:
                cache_hook.add_partial("generate_until", (plan.context, plan.cache_gen_kwargs()), results[position])
    return results
