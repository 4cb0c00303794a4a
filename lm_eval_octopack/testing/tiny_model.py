"""A tiny random-weights causal LM, built locally in seconds, for offline end-to-end runs of ``--model hf``.

    from lm_eval_octopack.testing.tiny_model import build_tiny_model
    path = build_tiny_model("/tmp/tiny")   # then: --model hf --model_args pretrained=/tmp/tiny,dtype=float32

The tokenizer is a byte-level BPE trained on the mini HumanEvalPack's code (so any text round-trips), with an
end-of-text token and a small chat template; the model is a 2-layer GPT-2 with random weights. Its answers are
noise: it exercises tokenisation, generation, stop strings, chat templates and scoring, not model quality. Nothing is
downloaded from the Hugging Face Hub.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from lm_eval_octopack.data import MINI_DATA_DIR

EOS_TOKEN = "<|endoftext|>"
USER_MARKER = "<|user|>"
ASSISTANT_MARKER = "<|assistant|>"
END_OF_TURN = "<|end|>"
SPECIAL_TOKENS = [EOS_TOKEN, USER_MARKER, ASSISTANT_MARKER, END_OF_TURN]
VOCAB_SIZE = 512
#: Renders ``<|user|>\n{content}<|end|>\n`` per message and opens ``<|assistant|>\n`` for generation.
CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>\n{{ message['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
TEXT_FIELDS = ("prompt", "canonical_solution", "buggy_solution", "test", "instruction")


def corpus_lines(data_dir: str | Path = MINI_DATA_DIR) -> Iterator[str]:
    """Training text for the tokenizer: the code and instructions of every row in ``data_dir``."""
    for path in sorted(Path(data_dir).glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            yield from (row[field] for field in TEXT_FIELDS)


def build_tokenizer(data_dir: str | Path = MINI_DATA_DIR):  # noqa: ANN201 (transformers is an optional import)
    """A ``PreTrainedTokenizerFast``: byte-level BPE trained on ``data_dir``, with eos/pad and a chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(corpus_lines(data_dir), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token=EOS_TOKEN,
        bos_token=EOS_TOKEN,
        pad_token=EOS_TOKEN,
        unk_token=EOS_TOKEN,
        additional_special_tokens=[USER_MARKER, ASSISTANT_MARKER, END_OF_TURN],
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_tiny_model(out_dir: str | Path, seed: int = 0) -> Path:
    """Save a tokenizer and a random 2-layer GPT-2 to ``out_dir`` (``from_pretrained``-ready); returns the path."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    out = Path(out_dir)
    tokenizer = build_tokenizer()
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_layer=2,
        n_embd=32,
        n_head=2,
        n_positions=1024,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = GPT2LMHeadModel(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


if __name__ == "__main__":
    import sys

    print(build_tiny_model(sys.argv[1] if len(sys.argv) > 1 else "tiny-model"))
