"""Helpers shared by the octopack-vllm tests: a local tiny tokenizer and model dir, requests, what was sent.

Both the stand-in ``vllm`` tests (``test_vllm_budget.py``) and the real-vLLM cases
(``octopack_vllm_real_cases.py``, run by ``test_vllm_real.py``) use them; the engine doubles record each
``generate()`` call as ``(prompts, sampling_params)`` in ``engine.calls``.
"""

from __future__ import annotations

import json
from pathlib import Path

from lm_eval.api.instance import Instance

EOS = "</s>"
SAMPLING = {"until": ["\ndef"], "do_sample": True, "temperature": 0.2, "top_p": 0.95}


def build_model_dir(root: Path) -> Path:
    """A word-level tokenizer (one token per whitespace-separated word) and a config, all local."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<unk>": 0, EOS: 1, **{f"w{i}": i + 2 for i in range(64)}}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>", eos_token=EOS, pad_token="<unk>")
    model_dir = root / "tiny-model"
    tokenizer.save_pretrained(model_dir)
    (model_dir / "config.json").write_text(json.dumps({"model_type": "gpt2", "vocab_size": len(vocab)}))
    return model_dir


def prompt_of(length: int, doc_id: int) -> str:
    return " ".join(f"w{(doc_id + i) % 64}" for i in range(length))


def requests_for(lengths: list[int], repeats: int, gen_kwargs: dict | None = None) -> list[Instance]:
    """``repeats`` copies of one request per doc (as lm-eval builds them), doc ``i`` with ``lengths[i]`` tokens."""
    requests = []
    for doc_id, length in enumerate(lengths):
        instance = Instance(
            "generate_until",
            {},
            (prompt_of(length, doc_id), dict(gen_kwargs or SAMPLING)),
            0,
            metadata=("budget", doc_id, repeats),
        )
        requests.extend([instance] * repeats)
    return requests


def sent(engine) -> list[tuple[int, object]]:
    """(prompt length, SamplingParams) of every prompt in the engine's last generate() call."""
    prompts, params = engine.calls[-1]
    return [(len(prompt["prompt_token_ids"]), p) for prompt, p in zip(prompts, params, strict=True)]
