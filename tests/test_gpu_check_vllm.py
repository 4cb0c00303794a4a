"""benchmarks/gpu_check_vllm.py: the parts that run without a GPU (it runs whole only on a GPU machine)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check_vllm.py"


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check_vllm", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_vllm_it_writes_the_reason_and_exits_0(gpu_check, tmp_path):
    if gpu_check.gpu_missing_reason() is None:
        pytest.skip("vLLM and a GPU are here: the script would run for real")
    output = tmp_path / "result.json"
    assert gpu_check.main(["--output", str(output)]) == 0
    assert "skipped" in json.loads(output.read_text())


def test_the_tiny_model_is_built_locally_and_loads_with_transformers(gpu_check, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model_dir = gpu_check.build_tiny_model(tmp_path / "tiny")
    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True)
    text = gpu_check.code_corpus()[0]
    ids = tokenizer(text, return_tensors="pt").input_ids
    assert tokenizer.decode(ids[0]) == text  # byte-level: what vLLM detokenises is the text itself
    assert model.config.hidden_size // model.config.num_attention_heads == 64  # a head size vLLM kernels support
    with torch.no_grad():
        logits = model(ids).logits
    assert logits.shape[-1] == len(tokenizer) and tokenizer.eos_token == "</s>"
