"""octopack-vllm against the real vLLM classes, only the engine (``LLM``) faked; run by ``test_vllm_real.py``.

These cases need an installed ``vllm`` (no GPU): ``test_vllm_real.py`` runs this file with pytest in
a virtualenv of its own holding the vLLM wheel. Real here: vLLM's ``SamplingParams`` (its validation),
``TokensPrompt``, ``RequestOutput``/``CompletionOutput``, ``get_tokenizer``, ``resolve_chat_template``
and lm-eval 0.4.13's ``VLLM`` (``__init__``, ``tok_encode``, ``_model_generate``). The engine double
answers ``generate()`` with real ``RequestOutput``s of ``n`` completions each and checks what the
engine would reject (an empty prompt, prompt + ``max_tokens`` over ``max_model_len``).
"""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import version
from types import SimpleNamespace

import pytest
from octopack_vllm_helpers import SAMPLING, build_model_dir, requests_for, sent
from packaging.version import Version

vllm = pytest.importorskip("vllm", reason="run through test_vllm_real.py, which builds a virtualenv with vLLM")
from vllm import SamplingParams  # noqa: E402
from vllm.inputs import TokensPrompt  # noqa: E402
from vllm.outputs import CompletionOutput, RequestOutput  # noqa: E402

try:  # vLLM 0.33 raises its own error type for invalid parameters; older releases raised ValueError
    from vllm.exceptions import VLLMValidationError as Rejected
except ImportError:
    Rejected = ValueError


class EngineDouble:
    """Stands in for ``vllm.LLM``: records each generate() call, answers with real vLLM output objects."""

    engines: list[EngineDouble] = []

    def __init__(self, model: str, max_model_len: int | None = None, **engine_args) -> None:
        self.max_model_len = max_model_len or 4096
        config = SimpleNamespace(
            model=model,
            tokenizer=model,
            max_model_len=self.max_model_len,
            revision=None,
            tokenizer_revision=None,
            code_revision=None,
            trust_remote_code=False,
            hf_config=SimpleNamespace(model_type="gpt2"),
        )
        self.llm_engine = SimpleNamespace(model_config=config)
        self.calls: list[tuple[list, list]] = []
        EngineDouble.engines.append(self)

    def generate(self, prompts, sampling_params=None, use_tqdm=True, lora_request=None) -> list[RequestOutput]:
        self.calls.append((prompts, sampling_params))
        return [
            self._answer(i, prompt, params)
            for i, (prompt, params) in enumerate(zip(prompts, sampling_params, strict=True))
        ]

    def _answer(self, index: int, prompt: dict, params: SamplingParams) -> RequestOutput:
        assert isinstance(params, SamplingParams)
        tokens = prompt["prompt_token_ids"]
        if not tokens:
            raise ValueError("The decoder prompt cannot be empty")
        if len(tokens) + params.max_tokens > self.max_model_len:
            raise ValueError(f"{len(tokens)} prompt + {params.max_tokens} new tokens > {self.max_model_len}")
        completions = [
            CompletionOutput(
                index=j,
                text=completion_text(len(tokens), j),
                token_ids=[2, 3],
                cumulative_logprob=None,
                logprobs=None,
                finish_reason="length",
            )
            for j in range(params.n)
        ]
        return RequestOutput(
            request_id=str(index),
            prompt=None,
            prompt_token_ids=tokens,
            prompt_logprobs=None,
            outputs=completions,
            finished=True,
        )


def completion_text(prompt_tokens: int, index: int) -> str:
    return f" sample {index} of a {prompt_tokens}-token prompt"


@pytest.fixture(scope="module")
def adapter():
    """lm-eval's vLLM backend and our adapter, imported against the real vllm with the engine double as LLM."""
    vllm.LLM = EngineDouble  # set before lm-eval's `from vllm import LLM`; vLLM's own LLM is never imported
    import lm_eval.models.vllm_causallms as backend

    backend.LLM = EngineDouble  # in case the backend was imported earlier in this process
    import lm_eval_octopack.models.vllm as module

    if module.VLLM_IMPORT_ERROR is not None:
        importlib.reload(module)
    assert module.VLLM_IMPORT_ERROR is None, module.VLLM_IMPORT_ERROR
    return module


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return build_model_dir(tmp_path_factory.mktemp("real_vllm"))


def make_lm(adapter, model_dir, **model_args):
    lm = adapter.OctopackVLLM(pretrained=str(model_dir), **model_args)
    return lm, EngineDouble.engines[-1]


def test_lm_eval_runs_on_the_real_vllm_classes(adapter):
    import lm_eval.models.vllm_causallms as backend

    assert backend.SamplingParams is SamplingParams and backend.TokensPrompt is TokensPrompt
    assert Version("0.18") <= Version(version("vllm")) < Version("0.34")  # our [vllm] extra's range


def test_issue_case_1176_token_prompt_is_sent_whole_as_a_tokens_prompt_with_872_new_tokens(adapter, model_dir):
    lm, engine = make_lm(adapter, model_dir, max_model_len=2048, max_total_tokens=2048, max_gen_toks=1024)
    requests = requests_for([1176], repeats=3)
    results = lm.generate_until(requests)
    [prompt], [params] = engine.calls[-1]
    assert prompt == TokensPrompt(prompt_token_ids=lm.tok_encode(requests[0].args[0]))
    assert (len(prompt["prompt_token_ids"]), params.max_tokens, params.n) == (1176, 872, 3)
    assert results == [completion_text(1176, j) for j in range(3)]


def test_max_gen_toks_above_max_model_len_sends_no_empty_prompt(adapter, model_dir):
    lm, engine = make_lm(adapter, model_dir, max_model_len=1024, max_gen_toks=2048)
    lm.generate_until(requests_for([300, 1000], repeats=2))
    assert [(length, params.max_tokens) for length, params in sent(engine)] == [(300, 724), (1000, 24)]


def test_a_prompt_that_cannot_fit_gets_empty_samples_and_a_warning_not_a_crash(adapter, model_dir, caplog):
    lm, engine = make_lm(adapter, model_dir, max_model_len=2048, max_total_tokens=2048, max_gen_toks=1024)
    with caplog.at_level(logging.WARNING, logger="lm_eval_octopack.models.vllm"):
        results = lm.generate_until(requests_for([100, 2500, 200], repeats=2))
    assert [length for length, _ in sent(engine)] == [100, 200]
    assert results == [
        completion_text(100, 0),
        completion_text(100, 1),
        "",
        "",
        completion_text(200, 0),
        completion_text(200, 1),
    ]
    assert "budget doc 1 not generated (2 empty samples)" in caplog.text


def test_one_generate_call_per_run_and_n_outputs_fan_out_to_each_docs_samples(adapter, model_dir):
    lm, engine = make_lm(adapter, model_dir, max_model_len=512, batch_size=1)
    lengths = [10, 20, 30, 40, 50]
    results = lm.generate_until(requests_for(lengths, repeats=4))
    assert len(engine.calls) == 1
    assert [(length, params.n) for length, params in sent(engine)] == [(length, 4) for length in lengths]
    assert results == [completion_text(length, j) for length in lengths for j in range(4)]


def test_greedy_requests_ask_for_one_sample_which_vllm_requires_at_temperature_0(adapter, model_dir):
    with pytest.raises(Rejected, match="n must be 1 when using greedy sampling"):
        SamplingParams(n=4, temperature=0.0)
    lm, engine = make_lm(adapter, model_dir, max_model_len=512)
    results = lm.generate_until(requests_for([10], repeats=4, gen_kwargs={"until": ["\ndef"], "do_sample": False}))
    [(_, params)] = sent(engine)
    assert (params.n, params.temperature) == (1, 0.0)
    assert results == [completion_text(10, 0)] * 4


def test_an_empty_stop_string_is_not_sent_to_vllm_which_rejects_it(adapter, model_dir):
    with pytest.raises(Rejected, match="stop cannot contain an empty string"):
        SamplingParams(stop=["", "\ndef"])
    lm, engine = make_lm(adapter, model_dir, max_model_len=512)
    results = lm.generate_until(requests_for([10], repeats=2, gen_kwargs={**SAMPLING, "until": ["", "\ndef"]}))
    [(_, params)] = sent(engine)
    assert "" not in params.stop and "\ndef" in params.stop
    assert results == [completion_text(10, 0), completion_text(10, 1)]


def test_unseeded_by_default_and_per_request_seeds_are_valid_vllm_seeds(adapter, model_dir):
    lm, engine = make_lm(adapter, model_dir, max_model_len=512)
    lm.generate_until(requests_for([10, 20], repeats=2))
    assert [params.seed for _, params in sent(engine)] == [None, None]

    seeded, seeded_engine = make_lm(adapter, model_dir, max_model_len=512, per_request_seed=True)
    seeded.generate_until(requests_for([10, 20], repeats=2))
    seeds = [params.seed for _, params in sent(seeded_engine)]
    assert all(isinstance(seed, int) for seed in seeds) and seeds[0] != seeds[1]


def test_lm_evals_own_backend_cuts_the_1176_token_prompt_to_1024(adapter, model_dir):
    """The baseline this package departs from, on the real classes too."""
    from lm_eval.models.vllm_causallms import VLLM

    theirs = VLLM(pretrained=str(model_dir), max_model_len=2048, max_gen_toks=1024, batch_size="auto")
    theirs.generate_until(requests_for([1176], repeats=1))
    [(length, params)] = sent(EngineDouble.engines[-1])
    assert (length, params.max_tokens) == (1024, 1024)
