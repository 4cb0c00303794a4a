"""The real ``--model hf`` path end to end: a tiny local GPT-2, lm-eval's HFLM, our tasks, execution, output files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lm_eval_octopack.executors.types import STATUSES

from lm_eval_octopack.data import MINI_DATA_DIR

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    pytest.importorskip("transformers")
    from lm_eval_octopack.testing.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


def run_hf(model: Path, output: Path, max_gen_toks: int, *extra: str, **metadata: str) -> tuple[dict, list[dict]]:
    metadata = {"data_dir": str(MINI_DATA_DIR), **metadata}
    command = [
        sys.executable,
        "-m",
        "lm_eval_octopack.cli",
        "--model",
        "hf",
        "--model_args",
        f"pretrained={model},dtype=float32",
        "--device",
        "cpu",
        "--batch_size",
        "2",
        "--tasks",
        "humanevalfix-python",
        "--limit",
        "1",
        "--gen_kwargs",
        f"max_gen_toks={max_gen_toks}",
        "--confirm_run_unsafe_code",
        "--metadata",
        json.dumps(metadata),
        "--output_path",
        str(output),
        "--log_samples",
        *extra,
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    [results_file] = output.glob("*/results_*.json")
    [samples_file] = output.glob("*/samples_humanevalfix-python_*.jsonl")
    samples = [json.loads(line) for line in samples_file.read_text().splitlines()]
    return json.loads(results_file.read_text()), samples


def test_hf_model_generates_and_every_sample_is_executed(tiny_model, tmp_path):
    results, samples = run_hf(tiny_model, tmp_path, max_gen_toks=16)
    pass_at_1 = results["results"]["humanevalfix-python"]["pass@1,execution"]
    assert isinstance(pass_at_1, float) and 0.0 <= pass_at_1 <= 1.0
    assert results["config"]["model"] == "hf"
    [record] = samples
    assert len(record["resps"][0]) == 20  # repeats: 20 sampled continuations of one prompt
    assert len(record["verdicts"]) == 20
    assert {verdict["status"] for verdict in record["verdicts"]} <= set(STATUSES)
    prompt = record["arguments"]["gen_args_0"]["arg_0"]
    assert prompt.endswith("Fix bugs in sum_two.\n\ndef sum_two(a: int, b: int) -> int:")  # the instruct template


def test_chat_template_mode_renders_the_tokenizers_template(tiny_model):
    from lm_eval import simple_evaluate

    from lm_eval_octopack import plugin
    from lm_eval_octopack.testing.tiny_model import ASSISTANT_MARKER, END_OF_TURN, USER_MARKER

    # in process (what `--apply_chat_template --metadata prompt=chat` runs), to skip the CLI's 40 s task indexing
    metadata = {"data_dir": str(MINI_DATA_DIR), "prompt": "chat"}
    results = simple_evaluate(
        model="hf",
        model_args=f"pretrained={tiny_model},dtype=float32",
        device="cpu",
        batch_size=2,
        tasks=["humanevalfix-python"],
        limit=1,
        gen_kwargs="max_gen_toks=4",
        apply_chat_template=True,
        log_samples=True,
        confirm_run_unsafe_code=True,
        task_manager=plugin.task_manager(metadata=metadata),
        bootstrap_iters=0,
    )
    [record] = results["samples"]["humanevalfix-python"]
    context = record["arguments"][0][0]
    assert context.startswith(USER_MARKER + "\n")
    assert f"Fix bugs in sum_two.{END_OF_TURN}\n{ASSISTANT_MARKER}\n" in context
    assert context.endswith(f"{ASSISTANT_MARKER}\ndef sum_two(a: int, b: int) -> int:")  # the code prefix to continue
    assert len(record["verdicts"]) == 20
