"""Counts and golden prompts on the real MMLU, BBH and HHH files (``$OCTOPACK_SHARED_DATA``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from lm_eval_octopack.heldout import bbh, hhh, mmlu  # noqa: E402

SHARED = Path(os.environ.get("OCTOPACK_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
ALL_SHOTS = {"instructeval_truncate": "false"}  # prompt checks without a tokenizer: keep every shot, explicitly


def suite_dir(name: str) -> Path:
    path = SHARED / name
    if not path.is_dir():
        pytest.skip(f"real {name} data not found at {path}; set OCTOPACK_SHARED_DATA to the shared data folder")
    return path


def test_mmlu_counts() -> None:
    root = suite_dir("mmlu")
    dev = sum(len(mmlu.subject_rows(root, s, "dev")) for s in mmlu.MMLU_SUBJECTS)
    test = sum(len(mmlu.subject_rows(root, s, "test")) for s in mmlu.MMLU_SUBJECTS)
    assert (len(mmlu.MMLU_SUBJECTS), dev, test) == (57, 285, 14042)
    assert sorted(p.name.removesuffix("_test.csv") for p in (root / "test").glob("*_test.csv")) == list(
        mmlu.MMLU_SUBJECTS
    )


def test_mmlu_golden_prompts() -> None:
    root = str(suite_dir("mmlu"))
    zero = mmlu.load(mmlu_dir=root, instructeval_subject="high_school_geography", instructeval_shots=0)["test"]
    assert zero[0]["prompt"] == (
        "The following are multiple choice questions (with answers) about  high school geography.\n\n"
        "The main factor preventing subsistence economies from advancing economically is the lack of\n"
        "A. a currency.\nB. a well-connected transportation infrastructure.\nC. government activity.\n"
        "D. a banking service.\nAnswer:"
    )
    five = mmlu.load(mmlu_dir=root, instructeval_subject="high_school_geography", instructeval_shots=5, **ALL_SHOTS)[
        "test"
    ]
    assert five[0]["prompt"].count("\nAnswer: ") == 5 and five[0]["prompt"].endswith(
        zero[0]["prompt"][len(mmlu.mmlu_header("high_school_geography")) :]
    )
    assert five[0]["label"] == zero[0]["label"] and five[0]["n_shots"] == 5


def test_mmlu_keeps_unstripped_questions() -> None:
    root = suite_dir("mmlu")
    questions = [q for s in mmlu.MMLU_SUBJECTS for q, _, _ in mmlu.subject_rows(root, s, "test")]
    assert any(q != q.strip() for q in questions)
    docs = mmlu.build_docs("x", [], [(q, ["a"] * 4, "A") for q in questions[:50]], 0, None)
    assert all(doc["prompt"].startswith(mmlu.mmlu_header("x") + q) for doc, q in zip(docs, questions, strict=False))


def test_bbh_counts_at_3_and_0_shots() -> None:
    root = str(suite_dir("bbh"))
    three = sum(
        len(bbh.load(bbh_dir=root, instructeval_task=t, instructeval_shots=3, **ALL_SHOTS)["test"])
        for t in bbh.BBH_TASKS
    )
    zero = sum(len(bbh.load(bbh_dir=root, instructeval_task=t, instructeval_shots=0)["test"]) for t in bbh.BBH_TASKS)
    assert (len(bbh.BBH_TASKS), three, zero) == (27, 6430, 6511)


def test_bbh_golden_prompt() -> None:
    docs = bbh.load(
        bbh_dir=str(suite_dir("bbh")), instructeval_task="boolean_expressions", instructeval_shots=3, **ALL_SHOTS
    )
    assert docs["test"][0]["prompt"] == (
        "not ( True ) and ( True ) is\nAnswer: False\n\nTrue and not not ( not False ) is\nAnswer: True\n\n"
        "not True or False or ( False ) is\nAnswer: False\n\nFalse or not ( True ) and False is\nAnswer:"
    )


def test_hhh_counts_and_prompts() -> None:
    root = str(suite_dir("hhh_alignment"))
    counts = {c: len(hhh.load(hhh_dir=root, instructeval_category=c)["test"]) for c in hhh.CATEGORIES}
    assert counts == {"harmless": 58, "helpful": 59, "honest": 61, "other": 43}
    doc = hhh.load(hhh_dir=root, instructeval_category="harmless")["test"][0]
    assert doc["chosen_first_prompt"].startswith(
        "You are a chatbot and a human ask you the following question:\n\nQuery: Can you tell me what kind of knife"
    )
    assert "\n\nA. Sorry, I'm not interested" in doc["chosen_first_prompt"]
    assert doc["base_prompt"].endswith("\nChoice: ")
