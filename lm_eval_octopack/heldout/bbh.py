"""BBH as INSTRUCTEVAL runs it: each task's first k items are its shots and are removed from
the scored set (6,430 items at 3-shot, 6,511 at 0-shot), ``{input}\\nAnswer:`` with no task
description, 32 generated tokens, prefix match, macro average over the 27 tasks.

Data: a local ``{task}.json`` folder (BIG-Bench-Hard format) or the Hub's ``lukaemon/bbh``.
"""

from __future__ import annotations

import json
from typing import Any

import datasets

from .docsets import as_dataset_dict, option
from .prompts import answer_block
from .shots import FitsCheck, fit_shots, fits_check
from .sources import load_hub_split, local_dir, require_file

SUITE = "bbh"
HUB_ID = "lukaemon/bbh"
BBH_TASKS: tuple[str, ...] = (
    "boolean_expressions",
    "causal_judgement",
    "date_understanding",
    "disambiguation_qa",
    "dyck_languages",
    "formal_fallacies",
    "geometric_shapes",
    "hyperbaton",
    "logical_deduction_five_objects",
    "logical_deduction_seven_objects",
    "logical_deduction_three_objects",
    "movie_recommendation",
    "multistep_arithmetic_two",
    "navigate",
    "object_counting",
    "penguins_in_a_table",
    "reasoning_about_colored_objects",
    "ruin_names",
    "salient_translation_error_detection",
    "snarks",
    "sports_understanding",
    "temporal_sequences",
    "tracking_shuffled_objects_five_objects",
    "tracking_shuffled_objects_seven_objects",
    "tracking_shuffled_objects_three_objects",
    "web_of_lies",
    "word_sorting",
)

Example = tuple[str, str]  # input, target


def read_examples(task: str, metadata: dict[str, Any]) -> list[Example]:
    root = local_dir(SUITE, metadata)
    if root is not None:
        with open(require_file(SUITE, root / f"{task}.json"), encoding="utf-8") as handle:
            rows = json.load(handle)["examples"]
    else:
        rows = load_hub_split(SUITE, str(metadata.get("bbh_hub_id") or HUB_ID), task, "test")
    return [(row["input"], row["target"]) for row in rows]


def build_docs(task: str, examples: list[Example], ntrain: int, fits: FitsCheck | None) -> list[dict]:
    shots = [answer_block(text, target) for text, target in examples[:ntrain]]
    docs = []
    for text, target in examples[ntrain:]:
        prompt, k = fit_shots("", shots, answer_block(text), fits)
        docs.append({"prompt": prompt, "label": target, "task": task, "n_shots": k})
    return docs


def load(**kwargs: Any) -> datasets.DatasetDict:
    """``custom_dataset`` for one BBH task; ``dataset_kwargs``: ``instructeval_task``, ``instructeval_shots``."""
    task = option(kwargs, "instructeval_task")
    ntrain = int(option(kwargs, "instructeval_shots"))
    return as_dataset_dict(build_docs(task, read_examples(task, kwargs), ntrain, fits_check(kwargs)))
