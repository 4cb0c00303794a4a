"""Each suite end to end through lm-eval's own ``simple_evaluate`` with a scripted model.

The model answers by looking at the request: it checks that the prompt it receives is the
materialised INSTRUCTEVAL prompt and that generation is greedy with no stop strings, then answers
right or wrong by a fixed rule. The test recomputes the aggregate by hand from the same rule.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import lm_eval.models  # noqa: E402,F401  (built-in models first, then ours)
from lm_eval import simple_evaluate  # noqa: E402
from lm_eval.api.model import LM  # noqa: E402
from lm_eval.api.registry import model_registry, register_model  # noqa: E402
from lm_eval.tasks import TaskManager  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "heldout"
SHARED = Path(os.environ.get("OCTOPACK_SHARED_DATA") or REPO.parent / "shared" / "data")
MODEL_NAME = "octopack-heldout-scripted"
MAX_GEN_TOKS = {"mmlu": 2, "bbh": 32, "drop": 8, "crass": 8}


def is_correct(task_name: str, doc_id: int) -> bool:
    return (doc_id + len(task_name)) % 3 != 0


def hhh_behaviour(doc_id: int) -> str:
    return ("prefers_chosen", "always_a", "tie")[doc_id % 3]


class ScriptedLM(LM):
    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:  # noqa: ANN001
        answers = []
        for request in requests:
            context, gen_kwargs = request.args
            suite = request.task_name.split("_")[1]
            assert context == request.doc["prompt"]
            assert gen_kwargs["until"] == [] and gen_kwargs["do_sample"] is False
            assert gen_kwargs["max_gen_toks"] == MAX_GEN_TOKS[suite]
            label = request.doc["label"]
            if is_correct(request.task_name, request.doc_id):
                answers.append(f" {label}\n" if request.doc_id % 2 else f"{label}. because")
            else:
                answers.append("" if request.doc_id % 2 else "Zz")
        return answers

    def loglikelihood(self, requests, disable_tqdm: bool = False) -> list[tuple[float, bool]]:  # noqa: ANN001
        return [self._hhh_score(request) for request in requests]

    @staticmethod
    def _hhh_score(request) -> tuple[float, bool]:  # noqa: ANN001
        context, letter = request.args
        doc = request.doc
        assert context.endswith("\nChoice: ") and letter in ("A", "B")
        if context == doc["base_prompt"]:
            return -2.0, False
        chosen = "A" if context == doc["chosen_first_prompt"] else "B"
        assert context == doc["chosen_first_prompt" if chosen == "A" else "chosen_last_prompt"]
        behaviour = hhh_behaviour(request.doc_id)
        if behaviour == "prefers_chosen":
            return (-1.0 if letter == chosen else -2.0), False
        if behaviour == "always_a":
            return (-1.0 if letter == "A" else -2.0), False
        return -1.5, False

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):  # noqa: ANN001, ANN201
        raise NotImplementedError


if MODEL_NAME not in model_registry:
    register_model(MODEL_NAME)(ScriptedLM)


def require_shared(name: str) -> None:
    if not (SHARED / name).is_dir():
        pytest.skip(f"real {name} data not found at {SHARED / name}; set OCTOPACK_SHARED_DATA")


def evaluate(tasks: list[str], samples: dict[str, list[int]], **metadata: str) -> dict:
    metadata = {"instructeval_truncate": "false", **metadata}  # the scripted model has no tokenizer to count with
    manager = TaskManager(include_path=str(REPO / "task_yaml"), include_defaults=False, metadata=metadata)
    return simple_evaluate(model=MODEL_NAME, tasks=tasks, samples=samples, task_manager=manager, bootstrap_iters=0)


def varied_samples(names: list[str]) -> dict[str, list[int]]:
    """Different sizes per subtask so micro and macro averages differ."""
    return {name: list(range(1 + 2 * (i % 3))) for i, name in enumerate(names)}


def hand_accuracy(samples: dict[str, list[int]]) -> tuple[float, float]:
    per_task = {t: [is_correct(t, i) for i in ids] for t, ids in samples.items()}
    micro = sum(map(sum, per_task.values())) / sum(map(len, per_task.values()))
    macro = sum(sum(v) / len(v) for v in per_task.values()) / len(per_task)
    return micro, macro


@pytest.mark.slow
def test_mmlu_5shot_micro_average() -> None:
    require_shared("mmlu")
    from lm_eval_octopack.heldout.mmlu import MMLU_SUBJECTS

    samples = varied_samples([f"instructeval_mmlu_5shot_{s}" for s in MMLU_SUBJECTS])
    out = evaluate(["instructeval_mmlu_5shot"], samples, mmlu_dir=str(SHARED / "mmlu"))
    micro, macro = hand_accuracy(samples)
    assert micro != pytest.approx(macro)
    assert out["groups"]["instructeval_mmlu_5shot"]["acc,none"] == pytest.approx(micro)


def test_bbh_3shot_macro_average() -> None:
    require_shared("bbh")
    from lm_eval_octopack.heldout.bbh import BBH_TASKS

    samples = varied_samples([f"instructeval_bbh_3shot_{t}" for t in BBH_TASKS])
    out = evaluate(["instructeval_bbh_3shot"], samples, bbh_dir=str(SHARED / "bbh"))
    micro, macro = hand_accuracy(samples)
    assert micro != pytest.approx(macro)
    assert out["groups"]["instructeval_bbh_3shot"]["acc,none"] == pytest.approx(macro)


def test_drop_and_crass_on_fixtures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCTOPACK_DROP_DIR", str(FIXTURES / "drop"))
    samples = {"instructeval_drop_3shot": [0, 1, 2, 3], "instructeval_crass_3shot": [0, 1, 2, 3, 4]}
    out = evaluate(list(samples), samples, crass_dir=str(FIXTURES / "crass"))
    for task, ids in samples.items():
        expected = sum(is_correct(task, i) for i in ids) / len(ids)
        assert out["results"][task]["acc,none"] == pytest.approx(expected)


def test_hhh_plain_mean_of_categories() -> None:
    require_shared("hhh_alignment")
    from lm_eval_octopack.heldout.hhh import CATEGORIES

    samples = varied_samples([f"instructeval_hhh_{c}" for c in CATEGORIES])
    out = evaluate(["instructeval_hhh"], samples, hhh_dir=str(SHARED / "hhh_alignment"))
    per_category = {
        task: sum(1.0 if hhh_behaviour(i) == "prefers_chosen" else 0.5 for i in ids) / len(ids)
        for task, ids in samples.items()
    }
    for task, expected in per_category.items():
        assert out["results"][task]["acc,none"] == pytest.approx(expected)
    assert out["groups"]["instructeval_hhh"]["acc,none"] == pytest.approx(sum(per_category.values()) / 4)
