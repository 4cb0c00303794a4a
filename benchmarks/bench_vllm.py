"""Throughput of three ways to draw k samples per prompt with vLLM, on one model in one process.

1. ``octopack-vllm``: one ``SamplingParams(n=k, seed=...)`` per distinct prompt (this package);
2. lm-eval's ``vllm`` backend with ``repeats``: k copies of each request, ``n=1`` each;
3. raw ``LLM.generate`` with ``n=k`` (the floor: no lm-eval bookkeeping).

All three share one engine (the lm-eval backends reuse the ``LLM`` that (3) uses, so the
model loads once). Prints wall time, generated tokens and tokens/s for each.

    python benchmarks/bench_vllm.py --model /path/to/model --prompts 64 --samples 20 --max-tokens 256

Exits 0 with a message when vLLM or a GPU is missing.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable

GEN_KWARGS = {"until": ["\ndef ", "\nclass "], "do_sample": True, "temperature": 0.2, "top_p": 0.95}


def gpu_missing_reason() -> str | None:
    if importlib.util.find_spec("vllm") is None:
        return "vllm is not installed (pip install 'lm-eval-octopack[vllm]')"
    import torch

    if not torch.cuda.is_available():
        return "no CUDA GPU is visible"
    return None


def make_requests(n_prompts: int, samples: int, max_tokens: int) -> list:
    from lm_eval.api.instance import Instance

    requests = []
    for doc_id in range(n_prompts):
        context = (
            f'def function_{doc_id}(values: list[int]) -> int:\n    """Return a value computed from {doc_id}."""\n'
        )
        instance = Instance(
            "generate_until",
            {},
            (context, {**GEN_KWARGS, "max_gen_toks": max_tokens}),
            0,
            metadata=("bench", doc_id, samples),
        )
        requests.extend([instance] * samples)
    return requests


def timed(label: str, run: Callable[[], list[str]], count_tokens: Callable[[list[str]], int]) -> dict:
    start = time.perf_counter()
    texts = run()
    wall = time.perf_counter() - start
    tokens = count_tokens(texts)
    print(f"{label:<28} wall {wall:8.2f} s   tokens {tokens:9d}   {tokens / wall:10.1f} tok/s   samples {len(texts)}")
    return {"label": label, "wall_s": wall, "tokens": tokens, "tokens_per_s": tokens / wall, "samples": len(texts)}


def adopt_engine(lm_cls: type, llm, args: argparse.Namespace):
    """Build an lm-eval VLLM-family object around an existing engine instead of loading a second one."""
    from unittest import mock

    with mock.patch("lm_eval.models.vllm_causallms.LLM", return_value=llm):
        return lm_cls(pretrained=args.model, max_model_len=args.max_model_len, seed=args.seed, batch_size="auto")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="local model directory or cached model id")
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--samples", type=int, default=20, help="k samples per prompt (lm-eval's repeats)")
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--max-model-len", type=int, default=2048)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--gpu-memory-utilization", type=float, default=0.85)
    args = parser.parse_args(argv)

    reason = gpu_missing_reason()
    if reason:
        print(f"bench_vllm: skipped, {reason}.")
        return 0

    from lm_eval.models.vllm_causallms import VLLM
    from vllm import LLM, SamplingParams

    from lm_eval_octopack.models.vllm import OctopackVLLM

    llm = LLM(
        model=args.model,
        max_model_len=args.max_model_len,
        seed=args.seed,
        gpu_memory_utilization=args.gpu_memory_utilization,
    )
    tokenizer = llm.get_tokenizer()

    def count_tokens(texts: list[str]) -> int:
        return sum(len(tokenizer(text, add_special_tokens=False).input_ids) for text in texts)

    requests = make_requests(args.prompts, args.samples, args.max_tokens)
    prompts = [requests[i * args.samples].args[0] for i in range(args.prompts)]
    raw_params = SamplingParams(
        n=args.samples, temperature=0.2, top_p=0.95, max_tokens=args.max_tokens, stop=GEN_KWARGS["until"]
    )
    llm.generate(prompts[:2], raw_params, use_tqdm=False)  # warm-up: CUDA graphs, allocator

    ours = adopt_engine(OctopackVLLM, llm, args)
    theirs = adopt_engine(VLLM, llm, args)
    rows = [
        timed("octopack-vllm (n=k, seed)", lambda: ours.generate_until(requests, disable_tqdm=True), count_tokens),
        timed("lm-eval vllm (repeats)", lambda: theirs.generate_until(requests, disable_tqdm=True), count_tokens),
        timed(
            "raw LLM.generate (n=k)",
            lambda: [c.text for out in llm.generate(prompts, raw_params, use_tqdm=False) for c in out.outputs],
            count_tokens,
        ),
    ]
    baseline = rows[1]["wall_s"]
    for row in rows:
        print(f"{row['label']:<28} speed-up vs lm-eval repeats: {baseline / row['wall_s']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
