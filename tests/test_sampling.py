"""n-sampling: grouping, seeds, order contract, until-cut, and the octopack-vllm adapter.

The CPU tests drive :func:`generate_grouped` through a test double of ``vllm.LLM.generate``
that honours its documented contract: one ``RequestOutput`` per prompt, ``.outputs`` a list
of ``n`` ``CompletionOutput`` with ``.text``, and with a per-request seed the same samples.
"""

from __future__ import annotations

import hashlib
import importlib.util
import random
from dataclasses import dataclass

import pytest
from lm_eval.api.instance import Instance

from lm_eval_octopack.sampling import (
    derive_seed,
    generate_grouped,
    group_requests,
    plan_groups,
    texts_from_outputs,
    vllm_gen_kwargs,
)

SAMPLING = {"until": ["\ndef"], "max_gen_toks": 32, "do_sample": True, "temperature": 0.2, "top_p": 0.95}


@dataclass
class FakeCompletion:
    text: str


@dataclass
class FakeRequestOutput:
    prompt: str
    outputs: list[FakeCompletion]


class FakeLLM:
    """Deterministic from (prompt, seed, sample index); unseeded requests draw from a shared RNG."""

    def __init__(self) -> None:
        self.calls: list[list[dict]] = []
        self._unseeded = random.Random(0)

    def generate(self, prompts: list[str], sampling_params: list[dict], use_tqdm: bool = False) -> list:
        self.calls.append(sampling_params)
        return [self._one(prompt, params) for prompt, params in zip(prompts, sampling_params, strict=True)]

    def _one(self, prompt: str, params: dict) -> FakeRequestOutput:
        seed = params.get("seed")
        texts = []
        for index in range(params.get("n", 1)):
            salt = f"{prompt}|{seed}|{index}" if seed is not None else str(self._unseeded.random())
            token = hashlib.sha256(salt.encode()).hexdigest()[:8]
            texts.append(f"    return {token}\ndef tail_{index}():\n    pass")
        return FakeRequestOutput(prompt, [FakeCompletion(t) for t in texts])


def fake_generate(llm: FakeLLM):
    def generate(plans):
        outputs = llm.generate([p.context for p in plans], [p.sampling_params() for p in plans])
        return texts_from_outputs(outputs, plans)

    return generate


def make_requests(task: str, doc_ids: list[int], repeats: int, gen_kwargs: dict | None = None) -> list[Instance]:
    """As lm-eval's evaluator does: one Instance per doc, the same object ``repeats`` times, adjacent."""
    requests = []
    for doc_id in doc_ids:
        context = f"# {task} problem {doc_id}\ndef f_{doc_id}():\n"
        instance = Instance(
            request_type="generate_until",
            doc={"task_id": f"Python/{doc_id}"},
            arguments=(context, dict(gen_kwargs or SAMPLING)),
            idx=0,
            metadata=(task, doc_id, repeats),
        )
        requests.extend([instance] * repeats)
    return requests


def run(requests, base_seed: int = 1234, llm: FakeLLM | None = None, **kwargs) -> list[str]:
    return generate_grouped(
        requests,
        fake_generate(llm or FakeLLM()),
        base_seed=base_seed,
        eos="<|endoftext|>",
        default_max_gen_toks=256,
        **kwargs,
    )


def samples_by_doc(requests, results) -> dict[tuple, list[str]]:
    by_doc: dict[tuple, list[str]] = {}
    for request, text in zip(requests, results, strict=True):
        by_doc.setdefault((request.task_name, request.doc_id), []).append(text)
    return by_doc


def test_each_distinct_prompt_is_sent_once_with_n_equal_to_repeats():
    llm = FakeLLM()
    requests = make_requests("humanevalfixtests-python", [0, 1, 2], repeats=5)
    results = run(requests, llm=llm)
    assert len(results) == 15
    assert len(llm.calls) == 1
    assert [params["n"] for params in llm.calls[0]] == [5, 5, 5]
    assert len({text for text in results}) == 15  # n distinct samples, none dropped


def test_results_follow_request_order_for_shuffled_requests():
    requests = make_requests("humanevalsynthesize-js", [0, 1, 2, 3], repeats=3)
    shuffled = list(requests)
    random.Random(7).shuffle(shuffled)
    in_order = samples_by_doc(requests, run(requests))
    reordered = samples_by_doc(shuffled, run(shuffled))
    assert {doc: sorted(texts) for doc, texts in in_order.items()} == {
        doc: sorted(texts) for doc, texts in reordered.items()
    }
    first_doc0 = next(i for i, r in enumerate(shuffled) if r.doc_id == 0)
    assert run(shuffled)[first_doc0].startswith("    return ")


def test_samples_do_not_depend_on_limit_batch_or_other_tasks():
    full = make_requests("humanevalfixtests-python", list(range(6)), repeats=4)
    full_samples = samples_by_doc(full, run(full))
    limited = make_requests("humanevalfixtests-python", [0, 1], repeats=4)
    other_task = make_requests("humanevalsynthesize-python", [0, 1, 2], repeats=2)
    mixed = other_task[:3] + limited + other_task[3:]
    mixed_samples = samples_by_doc(mixed, run(mixed))
    for doc in [("humanevalfixtests-python", 0), ("humanevalfixtests-python", 1)]:
        assert mixed_samples[doc] == full_samples[doc]


def test_seed_changes_with_base_seed_task_doc_and_context():
    seed = derive_seed(1234, "t", 0, "ctx")
    assert seed == derive_seed(1234, "t", 0, "ctx")
    variants = {
        derive_seed(1235, "t", 0, "ctx"),
        derive_seed(1234, "u", 0, "ctx"),
        derive_seed(1234, "t", 1, "ctx"),
        derive_seed(1234, "t", 0, "ctx2"),
    }
    assert seed not in variants and len(variants) == 4
    assert 0 <= seed < 2**63
    requests = make_requests("humanevalfixtests-python", [0], repeats=3)
    assert run(requests, base_seed=1) != run(requests, base_seed=2)


def test_same_context_in_two_docs_gets_two_groups_and_two_seeds():
    first = make_requests("t", [0], repeats=2)[0]
    twin = Instance("generate_until", {}, first.arguments, 0, metadata=("t", 1, 2))
    requests = [first, first, twin, twin]
    assert group_requests(requests) == [[0, 1], [2, 3]]
    plans = plan_groups(requests, base_seed=0, eos=None, default_max_gen_toks=16)
    assert plans[0].seed != plans[1].seed


def test_until_is_cut_like_lm_eval_and_eos_is_a_stop():
    results = run(make_requests("humanevalfixtests-python", [0], repeats=2))
    assert all(text.startswith("    return ") and "\ndef" not in text and "tail" not in text for text in results)
    plan = plan_groups(make_requests("t", [0], 2), base_seed=0, eos="<eos>", default_max_gen_toks=16)[0]
    assert plan.until == ["\ndef", "<eos>"]
    params = plan.sampling_params()
    assert params["stop"] == ["\ndef", "<eos>"] and params["max_tokens"] == 32
    assert "do_sample" not in params and "until" not in params and "max_gen_toks" not in params
    assert params["skip_special_tokens"] is False and params["temperature"] == 0.2 and params["top_p"] == 0.95


def test_gen_kwargs_normalisation_matches_lm_eval_rules():
    kwargs, until, max_gen_toks = vllm_gen_kwargs(
        {"until": "\n\n", "do_sample": False}, eos="</s>", default_max_gen_toks=99
    )
    assert kwargs["temperature"] == 0.0 and until == ["\n\n", "</s>"] and max_gen_toks == 99


def test_greedy_requests_are_sampled_once_and_copied():
    llm = FakeLLM()
    requests = make_requests("t", [0, 1], repeats=3, gen_kwargs={"until": ["\ndef"], "do_sample": False})
    results = run(requests, llm=llm)
    assert [params["n"] for params in llm.calls[0]] == [1, 1]
    assert results[0] == results[1] == results[2] != results[3]


def test_seed_in_gen_kwargs_replaces_the_base_seed():
    with_seed = make_requests("t", [0], repeats=2, gen_kwargs={**SAMPLING, "seed": 42})
    plan = plan_groups(with_seed, base_seed=1234, eos=None, default_max_gen_toks=16)[0]
    assert plan.seed == derive_seed(42, "t", 0, with_seed[0].args[0])
    assert "seed" not in plan.sampling_kwargs


class RecordingCacheHook:
    def __init__(self) -> None:
        self.entries: list[tuple] = []

    def add_partial(self, attr, req, res) -> None:
        self.entries.append((attr, req, res))


def test_cache_hook_gets_one_entry_per_request():
    hook = RecordingCacheHook()
    requests = make_requests("t", [0, 1], repeats=3)
    results = run(requests, cache_hook=hook)
    assert len(hook.entries) == 6
    assert sorted(entry[2] for entry in hook.entries) == sorted(results)
    attr, (context, gen_kwargs), _ = hook.entries[0]
    assert attr == "generate_until" and context == requests[0].args[0]
    assert gen_kwargs["until"] == ["\ndef", "<|endoftext|>"] and gen_kwargs["max_gen_toks"] == 32


def test_backend_returning_too_few_samples_is_an_error():
    class ShortLLM(FakeLLM):
        def _one(self, prompt, params):
            return super()._one(prompt, {**params, "n": 1})

    with pytest.raises(RuntimeError, match="expected n=3"):
        run(make_requests("t", [0], repeats=3), llm=ShortLLM())


def test_empty_request_list():
    assert run([]) == []


def test_adapter_module_imports_without_vllm_and_explains_what_is_missing():
    from lm_eval_octopack.models import vllm as adapter

    assert hasattr(adapter, "OctopackVLLM")
    if adapter.VLLM_IMPORT_ERROR is None:
        pytest.skip("vllm is installed here; the missing-vllm message is not reachable")
    with pytest.raises(ModuleNotFoundError, match="octopack-vllm needs vLLM|needs vLLM"):
        adapter.OctopackVLLM(pretrained="x")


def _gpu_available() -> bool:
    if importlib.util.find_spec("vllm") is None or importlib.util.find_spec("torch") is None:
        return False
    import torch

    return torch.cuda.is_available()


@pytest.mark.gpu
@pytest.mark.skipif(not _gpu_available(), reason="needs vllm and a CUDA GPU (set OCTOPACK_VLLM_MODEL to a local model)")
def test_real_vllm_n_sampling_is_reproducible_and_matches_the_order_contract():
    import os

    from lm_eval_octopack.models.vllm import OctopackVLLM

    model = os.environ.get("OCTOPACK_VLLM_MODEL")
    if not model:
        pytest.skip("set OCTOPACK_VLLM_MODEL to a local model directory or cached model id")
    lm = OctopackVLLM(pretrained=model, max_model_len=512, gpu_memory_utilization=0.5, seed=7, enforce_eager=True)
    requests = make_requests("t", [0, 1, 2], repeats=4, gen_kwargs={**SAMPLING, "temperature": 0.8})
    first = lm.generate_until(requests)
    assert len(first) == 12
    assert lm.generate_until(requests[4:8]) == first[4:8]  # doc 1 alone: same samples
    assert len(set(first[0:4])) > 1


def test_total_token_budget_matches_the_reference_cap():
    from lm_eval_octopack.models.vllm import prompt_budget

    assert prompt_budget(300, 1024, 4096, None).max_tokens == 1024
    assert prompt_budget(300, 2048, 4096, 2048).max_tokens == 1748  # reference: max_length 2048 = prompt + generation
    assert prompt_budget(300, 1024, 4096, 2048).max_tokens == 1024
    assert prompt_budget(2100, 1024, 4096, 2048).error  # no room left: reported, never sent


def test_unseeded_plans_send_no_seed_and_explicit_seeds_still_apply():
    requests = make_requests("t", [0, 1], repeats=2)
    unseeded = plan_groups(requests, base_seed=1, eos=None, default_max_gen_toks=8, seeded=False)
    assert [plan.seed for plan in unseeded] == [None, None]
    assert all("seed" not in plan.sampling_params() for plan in unseeded)
    explicit = make_requests("t", [0], repeats=2, gen_kwargs={**SAMPLING, "seed": 5})
    [plan] = plan_groups(explicit, base_seed=1, eos=None, default_max_gen_toks=8, seeded=False)
    assert plan.sampling_params()["seed"] == derive_seed(5, "t", 0, explicit[0].args[0])
