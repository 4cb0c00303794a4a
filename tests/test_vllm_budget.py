"""octopack-vllm prompt budgets, one generate() call per run, seeding modes, and the CLI's batch-size preflight.

vLLM is not installed here and lm-eval's ``vllm_causallms`` imports it at module level, so the
end-to-end tests put a stand-in ``vllm`` package on ``sys.path`` (a tmp dir): a fake engine ``LLM``
that records what it is sent and checks what vLLM checks (non-empty prompt, prompt shorter than
``max_model_len``, ``max_tokens >= 1``), a ``SamplingParams`` that keeps its keyword arguments,
``TokensPrompt`` as the dict it is in vLLM (a TypedDict), and ``get_tokenizer`` loading a real
Hugging Face tokenizer built locally. Everything else is lm-eval 0.4.13's real code: ``VLLM.__init__``,
``tok_encode``, ``_model_generate``, ``generate_until`` (for the baseline), ``maybe_truncate``.
The same cases against vLLM's real classes (their validation included): ``test_vllm_real.py`` (slow).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
import textwrap
from pathlib import Path

import pytest
from octopack_vllm_helpers import SAMPLING, build_model_dir, requests_for, sent

from lm_eval_octopack.models.vllm import prompt_budget

STUB_INIT = '''
"""Stand-in for vllm on machines without it: records calls, validates like vLLM, never samples."""
import hashlib

ENGINES = []


class SamplingParams:
    def __init__(self, n=1, seed=None, max_tokens=16, stop=None, **kwargs):
        if max_tokens is not None and max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens}.")
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}.")
        self.n, self.seed, self.max_tokens, self.stop, self.extra = n, seed, max_tokens, stop, kwargs


class TokensPrompt(dict):
    def __init__(self, prompt_token_ids):
        super().__init__(prompt_token_ids=prompt_token_ids)


class _Completion:
    def __init__(self, text):
        self.text = text


class _Output:
    def __init__(self, outputs):
        self.outputs = outputs


class _ModelConfig:
    def __init__(self, max_model_len):
        self.max_model_len = max_model_len


class _Engine:
    def __init__(self, max_model_len):
        self.model_config = _ModelConfig(max_model_len)


class LLM:
    def __init__(self, model, max_model_len=None, **kwargs):
        self.max_model_len = max_model_len or 4096
        self.llm_engine = _Engine(self.max_model_len)
        self.calls = []
        ENGINES.append(self)

    def generate(self, prompts, sampling_params=None, use_tqdm=True, lora_request=None):
        self.calls.append((prompts, sampling_params))
        return [self._one(prompt, params) for prompt, params in zip(prompts, sampling_params, strict=True)]

    def _one(self, prompt, params):
        tokens = prompt["prompt_token_ids"]
        if not tokens:
            raise ValueError("The decoder prompt cannot be empty")
        if len(tokens) >= self.max_model_len:
            raise ValueError(f"prompt length {len(tokens)} is longer than max_model_len {self.max_model_len}")
        texts = []
        for index in range(params.n):
            salt = f"{len(tokens)}|{params.seed}|{index}|{len(self.calls)}"
            texts.append("w" + hashlib.sha256(salt.encode()).hexdigest()[:6])
        return _Output([_Completion(text) for text in texts])
'''

STUB_FILES = {
    "vllm/__init__.py": STUB_INIT,
    "vllm/lora/__init__.py": "",
    "vllm/lora/request.py": "class LoRARequest:\n    def __init__(self, *args):\n        self.args = args\n",
    "vllm/tokenizers.py": textwrap.dedent("""
        from transformers import AutoTokenizer


        def get_tokenizer(name, **kwargs):
            kwargs.pop("tokenizer_mode", None)
            return AutoTokenizer.from_pretrained(name, local_files_only=True, **kwargs)
    """),
    # lm-eval reads importlib.metadata.version("vllm"); below 0.8.3 it skips the chat-template lookup.
    "vllm-0.8.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: vllm\nVersion: 0.8.0\n",
}


@pytest.fixture(scope="module")
def stub_vllm(tmp_path_factory):
    """Import lm-eval's vLLM backend and our adapter against the stand-in; undo it afterwards."""
    root = tmp_path_factory.mktemp("stub_vllm")
    for relative, text in STUB_FILES.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    model_dir = build_model_dir(root)
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    import lm_eval_octopack.models.vllm as adapter

    importlib.reload(adapter)
    assert adapter.VLLM_IMPORT_ERROR is None, adapter.VLLM_IMPORT_ERROR
    import vllm

    yield adapter, vllm, model_dir
    sys.path.remove(str(root))
    for name in [name for name in sys.modules if name == "vllm" or name.startswith("vllm.")]:
        del sys.modules[name]
    sys.modules.pop("lm_eval.models.vllm_causallms", None)
    importlib.invalidate_caches()
    importlib.reload(adapter)  # back to the no-vLLM state other tests expect


def make_lm(stub_vllm, **model_args):
    adapter, vllm, model_dir = stub_vllm
    lm = adapter.OctopackVLLM(pretrained=str(model_dir), **model_args)
    return lm, vllm.ENGINES[-1]


def test_budget_applies_the_total_cap_first_and_keeps_a_prompt_that_fits():
    assert prompt_budget(1176, 1024, 2048, 2048).max_tokens == 872  # issue 14: the reference keeps the prompt
    assert prompt_budget(300, 2048, 2048, 2048).max_tokens == 1748
    assert prompt_budget(300, 1024, 2048, 2048).max_tokens == 1024
    assert prompt_budget(300, 1024, 4096, None).max_tokens == 1024
    assert prompt_budget(300, 2048, 1024, None).max_tokens == 724  # max_model_len bounds generation, not the prompt
    assert prompt_budget(2047, 1024, 2048, 2048) == prompt_budget(2047, 1, 2048, None)


def test_budget_of_a_prompt_that_cannot_fit_is_an_error_not_a_truncation():
    for budget in (prompt_budget(2048, 1024, 2048, 2048), prompt_budget(2100, 1024, 4096, 2048)):
        assert budget.max_tokens == 0
        assert "no room" in budget.error


def test_issue_case_1176_token_prompt_is_kept_and_gets_872_new_tokens(stub_vllm):
    lm, engine = make_lm(stub_vllm, max_model_len=2048, max_total_tokens=2048, max_gen_toks=1024)
    results = lm.generate_until(requests_for([1176], repeats=3))
    [(length, params)] = sent(engine)
    assert (length, params.max_tokens, params.n) == (1176, 872, 3)
    assert len(results) == 3


def test_lm_evals_own_backend_cuts_that_prompt_which_is_why_we_budget_first(stub_vllm):
    """The baseline this package departs from: lm-eval's generate_until left-truncates to 1024 tokens."""
    adapter, vllm, model_dir = stub_vllm
    from lm_eval.models.vllm_causallms import VLLM

    theirs = VLLM(pretrained=str(model_dir), max_model_len=2048, max_gen_toks=1024, batch_size="auto")
    theirs.generate_until(requests_for([1176], repeats=1))
    [(length, params)] = sent(vllm.ENGINES[-1])
    assert (length, params.max_tokens) == (1024, 1024)


def test_max_gen_toks_above_max_model_len_sends_no_empty_prompt(stub_vllm):
    lm, engine = make_lm(stub_vllm, max_model_len=1024, max_gen_toks=2048)
    lm.generate_until(requests_for([300, 1000], repeats=2))
    assert [(length, params.max_tokens) for length, params in sent(engine)] == [(300, 724), (1000, 24)]


def test_a_prompt_that_cannot_fit_gets_empty_samples_and_a_warning_not_a_crash(stub_vllm, caplog):
    lm, engine = make_lm(stub_vllm, max_model_len=2048, max_total_tokens=2048, max_gen_toks=1024)
    requests = requests_for([100, 2500, 200], repeats=2)
    with caplog.at_level(logging.WARNING, logger="lm_eval_octopack.models.vllm"):
        results = lm.generate_until(requests)
    assert [length for length, _ in sent(engine)] == [100, 200]
    assert results[2:4] == ["", ""] and all(results[:2] + results[4:])
    assert "budget doc 1 not generated (2 empty samples)" in caplog.text


def test_every_request_goes_in_one_generate_call_whatever_batch_size_says(stub_vllm):
    lm, engine = make_lm(stub_vllm, max_model_len=512, batch_size=1)
    lm.generate_until(requests_for([10, 20, 30, 40, 50], repeats=4))
    assert len(engine.calls) == 1
    assert [(length, params.n) for length, params in sent(engine)] == [(10, 4), (20, 4), (30, 4), (40, 4), (50, 4)]


def test_unseeded_is_the_default_and_per_request_seed_is_an_option(stub_vllm):
    lm, engine = make_lm(stub_vllm, max_model_len=512)
    lm.generate_until(requests_for([10, 20], repeats=2))
    assert [params.seed for _, params in sent(engine)] == [None, None]

    seeded, seeded_engine = make_lm(stub_vllm, max_model_len=512, per_request_seed=True)
    seeded.generate_until(requests_for([10, 20], repeats=2))
    seeds = [params.seed for _, params in sent(seeded_engine)]
    assert all(isinstance(seed, int) for seed in seeds) and seeds[0] != seeds[1]
    seeded.generate_until(requests_for([10, 20], repeats=2)[2:])  # doc 1 alone keeps its seed
    assert [params.seed for _, params in sent(seeded_engine)] == seeds[1:]


def test_a_seed_in_gen_kwargs_seeds_the_request_even_in_the_fast_mode(stub_vllm):
    lm, engine = make_lm(stub_vllm, max_model_len=512)
    lm.generate_until(requests_for([10], repeats=2, gen_kwargs={**SAMPLING, "seed": 7}))
    [(_, params)] = sent(engine)
    assert isinstance(params.seed, int)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--model", "vllm"], "auto"),
        (["-M", "octopack-vllm"], "auto"),
        (["--model=vllm"], "auto"),
        (["--model", "vllm", "-b", "8"], "8"),
        (["--model", "vllm", "--batch_size", "8"], "8"),
        (["-M", "vllm", "--batch_size=16"], "16"),
        (["-M", "vllm", "-b8"], "8"),
        (["--model", "hf"], None),
    ],
)
def test_preflight_sets_auto_batch_size_for_vllm_only_when_none_is_given(argv, expected):
    from lm_eval_octopack.cli import batch_size_of, model_of, with_vllm_batch_size

    result = with_vllm_batch_size(argv)
    assert batch_size_of(result) == expected
    assert model_of(result) == model_of(argv)


def test_temperature_n_sweep_loads_the_model_once_for_all_pairs(monkeypatch, tmp_path):
    examples = Path(__file__).resolve().parents[1] / "examples"
    monkeypatch.syspath_prepend(str(examples))
    spec = importlib.util.spec_from_file_location("example_sweep_once", examples / "temperature_n_sweep.py")
    sweep = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sweep)
    from lm_eval_octopack.models.reference import ReferenceModel

    built = []
    original = ReferenceModel.__init__

    def counting_init(self, *args, **kwargs):
        built.append(kwargs)
        original(self, *args, **kwargs)

    monkeypatch.setattr(ReferenceModel, "__init__", counting_init)
    rows = sweep.main(["--limit", "1", "--temperatures", "0.2", "0.8", "--n", "1", "2", "--output-dir", str(tmp_path)])
    assert len(rows) == 4
    assert len(built) == 1
