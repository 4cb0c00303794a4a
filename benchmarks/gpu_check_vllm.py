"""GPU check of ``octopack-vllm`` against a real vLLM engine: one script, a tiny local model, results in JSON.

What it checks (issue 14), on a randomly initialised 2-layer Llama with a locally trained tokenizer
(nothing is downloaded; the GPU machine has no network):

* one ``LLM.generate`` call for a whole ``generate_until`` run, ``n = repeats`` outputs per prompt;
* samples of one prompt are distinct at temperature 0.8;
* prompt + generation within ``max_total_tokens`` and every prompt sent whole (token ids of the
  ``RequestOutput``s), a prompt near the cap included;
* reproducibility of each doc's samples alone, in a batch and in a shuffled batch, per-request seeds
  on and off, in two engines: ``VLLM_BATCH_INVARIANT=0`` and ``=1`` (each mode in its own process,
  as vLLM reads the variable at start-up). A seed fixes the sampling noise; only batch-invariant
  kernels make the logits, and so the texts, independent of batch composition;
* throughput, seeded vs unseeded, in rotated order over rounds, counted in generated tokens.

    python benchmarks/gpu_check_vllm.py [--output results.json]      # default: $OUT/gpu_check_vllm.json

Without vLLM or a GPU it writes ``{"skipped": reason}`` and exits 0. It targets under 8 minutes
(two engine start-ups with ``enforce_eager``, a few seconds of sampling each).

Staging vLLM on the GPU machine (no network; at most 64 MiB travels per device call). The machine
has torch 2.11 + CUDA 13 and Python 3.12, so the wheel is vLLM 0.26.0 (pins torch 2.11, links
CUDA 13; vLLM 0.33.0 pins torch 2.14). Here, outside the repository's tracked files::

    pip download vllm==0.26.0 --python-version 3.12 --only-binary=:all: -d stage/wheels
    # drop torch/nvidia-* wheels already on the machine, then:
    tar cf - -C stage wheels | split -b 60m - stage/part_       # stage/ must be git-ignored

and send one part per device call (``carry: ["stage/part_aa"]``, then ``part_ab``, ...: ignored
paths already on the machine stay there while it is warm), then in the last call::

    cat stage/part_* | tar xf - -C stage && pip install --no-index --find-links stage/wheels vllm==0.26.0 \\
        && python benchmarks/gpu_check_vllm.py

The vLLM wheel alone is about 330 MB (six calls); its non-torch dependencies add more. The machine
goes back when idle, so the calls must follow each other closely.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from lm_eval_octopack.models.vllm import gpu_missing_reason

MAX_MODEL_LEN = 512
MAX_TOTAL_TOKENS = 256
REPEATS = 4
SAMPLING = {"until": ["\n\n\n"], "do_sample": True, "temperature": 0.8, "top_p": 0.95, "max_gen_toks": 64}
MODES = {"default": "0", "batch_invariant": "1"}


def code_corpus(lines: int = 400) -> list[str]:
    rng = random.Random(0)
    names = ["values", "total", "index", "result", "items", "count", "left", "right", "key", "node"]
    corpus = []
    for i in range(lines):
        a, b = rng.sample(names, 2)
        corpus.append(f"def f_{i}({a}, {b}):\n    return {a} + {b} * {i % 7}\n")
    return corpus


def build_tiny_model(directory: Path) -> Path:
    """A random 2-layer Llama (head_dim 64, bf16) and a byte-level BPE tokenizer trained here."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    core = Tokenizer(models.BPE(unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1024, special_tokens=["<s>", "</s>", "<unk>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    core.train_from_iterator(code_corpus(), trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<s>", eos_token="</s>", unk_token="<unk>")
    config = LlamaConfig(
        vocab_size=core.get_vocab_size(),
        hidden_size=256,
        intermediate_size=512,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=MAX_MODEL_LEN,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        torch_dtype="bfloat16",
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).to(torch.bfloat16)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def make_requests(doc_ids: list[int], contexts: dict[int, str] | None = None) -> list:
    from lm_eval.api.instance import Instance

    requests = []
    for doc_id in doc_ids:
        body = (contexts or {}).get(doc_id) or "".join(code_corpus()[doc_id * 3 : doc_id * 3 + 3])
        instance = Instance("generate_until", {}, (body, dict(SAMPLING)), 0, metadata=("gpu_check", doc_id, REPEATS))
        requests.extend([instance] * REPEATS)
    return requests


def context_of_length(lm: Any, tokens: int) -> str:
    """Corpus lines until the prompt has at least ``tokens`` tokens."""
    lines = code_corpus()
    for count in range(1, len(lines) + 1):
        text = "".join(lines[:count])
        if len(lm.tok_encode(text)) >= tokens:
            return text
    raise ValueError(f"corpus shorter than {tokens} tokens")


class Recorder:
    """Wraps ``LLM.generate`` to keep every call's prompts and ``RequestOutput``s."""

    def __init__(self, llm: Any) -> None:
        self.llm, self.inner, self.calls = llm, llm.generate, []
        llm.generate = self

    def __call__(self, prompts: Any, sampling_params: Any = None, **kwargs: Any) -> list:
        outputs = self.inner(prompts, sampling_params=sampling_params, **kwargs)
        self.calls.append({"prompts": prompts, "params": sampling_params, "outputs": outputs})
        return outputs


def by_doc(requests: list, texts: list[str]) -> dict[int, list[str]]:
    grouped: dict[int, list[str]] = {}
    for request, text in zip(requests, texts, strict=True):
        grouped.setdefault(request.doc_id, []).append(text)
    return grouped


def check_one_call_and_budget(lm: Any, recorder: Recorder) -> dict:
    """Docs 0-7 fit (doc 7 leaves under 64 new tokens under the cap); doc 8 cannot fit: empty, not sent."""
    contexts = {7: context_of_length(lm, MAX_TOTAL_TOKENS - 20), 8: context_of_length(lm, MAX_TOTAL_TOKENS + 40)}
    requests = make_requests(list(range(9)), contexts)
    recorder.calls.clear()
    texts = lm.generate_until(requests)
    [call] = recorder.calls
    overlong_empty = by_doc(requests, texts).pop(8) == [""] * REPEATS
    requests, texts = requests[: 8 * REPEATS], texts[: 8 * REPEATS]
    prompt_lengths = [len(p["prompt_token_ids"]) for p in call["prompts"]]
    expected_lengths = [len(lm.tok_encode(requests[i * REPEATS].args[0])) for i in range(8)]
    totals = [len(out.prompt_token_ids) + max(len(c.token_ids) for c in out.outputs) for out in call["outputs"]]
    distinct = {doc: len(set(samples)) for doc, samples in by_doc(requests, texts).items()}
    return {
        "generate_calls": len(recorder.calls),
        "n_per_prompt": [p.n for p in call["params"]],
        "samples": len(texts),
        "prompts_sent_whole": prompt_lengths == expected_lengths,
        "prompt_lengths": prompt_lengths,
        "max_tokens": [p.max_tokens for p in call["params"]],
        "prompt_plus_generation": totals,
        "within_budget": all(total <= MAX_TOTAL_TOKENS for total in totals),
        "distinct_samples_per_doc": distinct,
        "overlong_prompt_empty_and_not_sent": overlong_empty and len(call["prompts"]) == 8,
        "ok": len(recorder.calls) == 1
        and all(p.n == REPEATS for p in call["params"])
        and overlong_empty
        and prompt_lengths == expected_lengths
        and all(total <= MAX_TOTAL_TOKENS for total in totals)
        and all(count > 1 for count in distinct.values()),
    }


def check_reproducibility(lm: Any, seeded: bool) -> dict:
    lm.per_request_seed = seeded
    docs = list(range(6))
    batched = by_doc(make_requests(docs), lm.generate_until(make_requests(docs)))
    shuffled_docs = random.Random(1).sample(docs, len(docs))
    shuffled = by_doc(make_requests(shuffled_docs), lm.generate_until(make_requests(shuffled_docs)))
    alone = {doc: by_doc(make_requests([doc]), lm.generate_until(make_requests([doc])))[doc] for doc in docs[:3]}
    return {
        "per_request_seed": seeded,
        "alone_equals_batched": sum(alone[doc] == batched[doc] for doc in alone) / len(alone),
        "shuffled_equals_batched": sum(shuffled[doc] == batched[doc] for doc in docs) / len(docs),
    }


def check_throughput(lm: Any, recorder: Recorder, rounds: int = 4) -> dict:
    requests = make_requests(list(range(32)))
    rows = []
    for round_ in range(rounds):
        order = [True, False] if round_ % 2 == 0 else [False, True]
        for seeded in order:
            lm.per_request_seed = seeded
            recorder.calls.clear()
            start = time.perf_counter()
            lm.generate_until(requests)
            wall = time.perf_counter() - start
            tokens = sum(len(c.token_ids) for call in recorder.calls for out in call["outputs"] for c in out.outputs)
            rows.append(
                {"round": round_, "seeded": seeded, "wall_s": wall, "tokens": tokens, "tokens_per_s": tokens / wall}
            )
    return {"rows": rows}


def run_mode(mode: str, model_dir: Path) -> dict:
    from lm_eval_octopack.models.vllm import OctopackVLLM

    lm = OctopackVLLM(
        pretrained=str(model_dir),
        max_model_len=MAX_MODEL_LEN,
        max_total_tokens=MAX_TOTAL_TOKENS,
        gpu_memory_utilization=0.3,
        enforce_eager=True,
        seed=1234,
    )
    recorder = Recorder(lm.model)
    lm.per_request_seed = True
    return {
        "mode": mode,
        "VLLM_BATCH_INVARIANT": os.environ.get("VLLM_BATCH_INVARIANT"),
        "one_call_and_budget": check_one_call_and_budget(lm, recorder),
        "reproducibility": [check_reproducibility(lm, seeded) for seeded in (True, False)],
        "throughput": check_throughput(lm, recorder),
    }


def child(mode: str, model_dir: Path, output: Path) -> int:
    started = time.perf_counter()
    try:
        result = run_mode(mode, model_dir)
    except Exception as error:  # recorded for the report; the other mode still runs
        result = {"mode": mode, "error": repr(error), "traceback": traceback.format_exc()}
    result["seconds"] = time.perf_counter() - started
    output.write_text(json.dumps(result, indent=2, default=str))
    return 0


def environment() -> dict:
    import torch
    import vllm

    return {
        "vllm": vllm.__version__,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "gpu": torch.cuda.get_device_name(0),
        "capability": list(torch.cuda.get_device_capability(0)),
    }


def parent(output: Path, timeout_s: int) -> int:
    reason = gpu_missing_reason()
    if reason:
        output.write_text(json.dumps({"skipped": reason}))
        print(f"gpu_check_vllm: skipped, {reason}.")
        return 0
    results: dict[str, Any] = {"environment": environment(), "modes": {}}
    with tempfile.TemporaryDirectory() as scratch:
        model_dir = build_tiny_model(Path(scratch) / "tiny-llama")
        for mode, flag in MODES.items():
            child_output = Path(scratch) / f"{mode}.json"
            command = [
                sys.executable,
                __file__,
                "--child",
                mode,
                "--model-dir",
                str(model_dir),
                "--output",
                str(child_output),
            ]
            env = {**os.environ, "VLLM_BATCH_INVARIANT": flag}
            try:
                subprocess.run(command, env=env, timeout=timeout_s, check=False)
                results["modes"][mode] = json.loads(child_output.read_text())
            except (subprocess.TimeoutExpired, OSError, ValueError) as error:
                results["modes"][mode] = {"error": repr(error)}
            output.write_text(json.dumps(results, indent=2, default=str))  # partial results survive a kill
    print(json.dumps(results, indent=2, default=str)[:6000])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_output = Path(os.environ.get("OUT", ".")) / "gpu_check_vllm.json"
    parser.add_argument("--output", type=Path, default=default_output)
    parser.add_argument("--timeout", type=int, default=210, help="seconds per mode (two modes)")
    parser.add_argument("--child", choices=sorted(MODES), help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.model_dir, args.output)
    return parent(args.output, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
