"""Throughput of four ways to draw k samples per prompt with vLLM, on one engine in one process.

1. ``octopack-vllm``, unseeded (the default): one ``SamplingParams(n=k)`` per distinct prompt;
2. ``octopack-vllm``, ``per_request_seed=True``: the same with a derived seed per doc. Any seeded
   request in a step sends vLLM's top-k/top-p sampler down its PyTorch path instead of FlashInfer's
   (``TopKTopPSampler.forward_cuda`` in ``vllm/v1/sample/ops/topk_topp_sampler.py``);
3. lm-eval's ``vllm`` backend with ``repeats``: k copies of each request, ``n=1`` each, unseeded;
4. raw ``LLM.generate`` with ``n=k`` (the floor: no lm-eval bookkeeping).

All arms share one engine (the lm-eval backends adopt the ``LLM`` of arm 4, so the model loads once).
vLLM's prefix cache is warm after the first arm, so the arms run in ``--rounds`` rounds in rotated
order (each arm first once when rounds >= arms). Every row reports wall time, generated tokens
(re-tokenised texts: the arms do not stop at the same lengths, so compare tokens/s, not seconds)
and tokens/s; the summary takes each arm's median over rounds.

    python benchmarks/bench_vllm.py --model /path/to/model --prompts 64 --samples 20 --max-tokens 256 \\
        [--rounds 4] [--output bench_vllm.json]

Exits 0 with a message when vLLM or a GPU is missing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from lm_eval_octopack.models.vllm import gpu_missing_reason

GEN_KWARGS = {"until": ["\ndef ", "\nclass "], "do_sample": True, "temperature": 0.2, "top_p": 0.95}


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


def timed(label: str, run: Callable[[], list[str]], count_tokens: Callable[[list[str]], int], round_: int) -> dict:
    start = time.perf_counter()
    texts = run()
    wall = time.perf_counter() - start
    tokens = count_tokens(texts)
    print(
        f"round {round_} {label:<30} wall {wall:8.2f} s   tokens {tokens:9d}   {tokens / wall:10.1f} tok/s   "
        f"samples {len(texts)}"
    )
    return {
        "label": label,
        "round": round_,
        "wall_s": wall,
        "tokens": tokens,
        "tokens_per_s": tokens / wall,
        "samples": len(texts),
    }


def adopt_engine(lm_cls: type, llm, args: argparse.Namespace, **model_args):
    """Build an lm-eval VLLM-family object around an existing engine instead of loading a second one."""
    from unittest import mock

    with mock.patch("lm_eval.models.vllm_causallms.LLM", return_value=llm):
        return lm_cls(
            pretrained=args.model, max_model_len=args.max_model_len, seed=args.seed, batch_size="auto", **model_args
        )


def rotated(items: list, shift: int) -> list:
    shift %= len(items)
    return items[shift:] + items[:shift]


def summarise(rows: list[dict], baseline_label: str) -> list[dict]:
    labels = list(dict.fromkeys(row["label"] for row in rows))
    summary = []
    for label in labels:
        mine = [row for row in rows if row["label"] == label]
        summary.append(
            {
                "label": label,
                "median_wall_s": statistics.median(row["wall_s"] for row in mine),
                "median_tokens": statistics.median(row["tokens"] for row in mine),
                "median_tokens_per_s": statistics.median(row["tokens_per_s"] for row in mine),
            }
        )
    baseline = next(item for item in summary if item["label"] == baseline_label)["median_tokens_per_s"]
    for item in summary:
        item["tokens_per_s_vs_lm_eval_repeats"] = item["median_tokens_per_s"] / baseline
        print(
            f"{item['label']:<30} median {item['median_tokens_per_s']:10.1f} tok/s   "
            f"{item['tokens_per_s_vs_lm_eval_repeats']:.2f}x lm-eval repeats"
        )
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="local model directory or cached model id")
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--samples", type=int, default=20, help="k samples per prompt (lm-eval's repeats)")
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--max-model-len", type=int, default=2048)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--rounds", type=int, default=4, help="rounds in rotated arm order")
    parser.add_argument("--gpu-memory-utilization", type=float, default=0.85)
    parser.add_argument("--output", type=Path, default=None, help="write rows and summary as JSON")
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

    unseeded = adopt_engine(OctopackVLLM, llm, args)
    seeded = adopt_engine(OctopackVLLM, llm, args, per_request_seed=True)
    theirs = adopt_engine(VLLM, llm, args)
    arms = [
        ("octopack-vllm (n=k, unseeded)", lambda: unseeded.generate_until(requests, disable_tqdm=True)),
        ("octopack-vllm (n=k, seeded)", lambda: seeded.generate_until(requests, disable_tqdm=True)),
        ("lm-eval vllm (repeats)", lambda: theirs.generate_until(requests, disable_tqdm=True)),
        (
            "raw LLM.generate (n=k)",
            lambda: [c.text for out in llm.generate(prompts, raw_params, use_tqdm=False) for c in out.outputs],
        ),
    ]
    rows = [
        timed(label, run, count_tokens, round_) for round_ in range(args.rounds) for label, run in rotated(arms, round_)
    ]
    summary = summarise(rows, baseline_label="lm-eval vllm (repeats)")
    if args.output:
        args.output.write_text(
            json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows, "summary": summary}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
