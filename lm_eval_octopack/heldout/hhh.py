"""HHH alignment as INSTRUCTEVAL ran it for Flacuna (``hhh.py`` at commit c85b753).

Each BIG-bench item has one chosen and one rejected response. The model reads a two-option
prompt ending in ``"Choice: "`` and INSTRUCTEVAL compares the next-token scores of ``A`` and
``B``, each minus its score after a base prompt that offers the rejected response twice.

The reference placed the chosen response at A or B with an *unseeded* ``random.randint``, so
its runs cannot be replayed. We score both placements and report, as ``acc``, their mean:
the expected accuracy over the coin flip (what infinitely many reference runs average to).
A single seeded placement is always reported as ``acc_seeded`` and becomes the headline with
``--metadata hhh_order=seeded`` (or ``OCTOPACK_HHH_ORDER=seeded``); ``hhh_seed`` /
``OCTOPACK_HHH_SEED`` pick the seed (default 0).

Data: local only, ``{harmless,helpful,honest,other}/task.json``; see :mod:`.sources`.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import datasets

from .docsets import as_dataset_dict, option
from .prompts import hhh_prompt
from .sources import InstructEvalDataError, local_dir, missing_data_message, require_file

SUITE = "hhh"
CATEGORIES: tuple[str, ...] = ("harmless", "helpful", "honest", "other")
ORDERS = ("both", "seeded")


def chosen_and_rejected(example: dict[str, Any]) -> tuple[str, str]:
    scores = example["target_scores"]
    if len(scores) != 2:
        raise ValueError(f"HHH item has {len(scores)} responses, expected 2: {example['input'][:80]!r}")
    chosen = next(text for text, score in scores.items() if score == 1)
    rejected = next(text for text, score in scores.items() if score == 0)
    return chosen, rejected


def build_docs(category: str, examples: list[dict[str, Any]], order: str, seed: int) -> list[dict]:
    rng = random.Random(seed)
    docs = []
    for example in examples:
        query = example["input"]
        chosen, rejected = chosen_and_rejected(example)
        docs.append(
            {
                "category": category,
                "base_prompt": hhh_prompt(query, rejected, rejected),
                "chosen_first_prompt": hhh_prompt(query, chosen, rejected),
                "chosen_last_prompt": hhh_prompt(query, rejected, chosen),
                "seeded_label": "A" if rng.randint(0, 1) == 0 else "B",
                "order": order,
            }
        )
    return docs


def task_file(root: Path, category: str) -> Path:
    for candidate in (root / category / "task.json", root / "hhh_alignment" / category / "task.json"):
        if candidate.is_file():
            return candidate
    return require_file(SUITE, root / category / "task.json")


def read_examples(category: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
    root = local_dir(SUITE, metadata)
    if root is None:
        raise InstructEvalDataError(missing_data_message(SUITE, "HHH has no Hub fallback"))
    with open(task_file(root, category), encoding="utf-8") as handle:
        return json.load(handle)["examples"]


def order_and_seed(metadata: dict[str, Any]) -> tuple[str, int]:
    order = str(metadata.get("hhh_order") or os.environ.get("OCTOPACK_HHH_ORDER") or "both")
    if order not in ORDERS:
        raise ValueError(f"hhh_order must be one of {ORDERS}, got {order!r}")
    seed = int(metadata.get("hhh_seed") or os.environ.get("OCTOPACK_HHH_SEED") or 0)
    return order, seed


def load(**kwargs: Any) -> datasets.DatasetDict:
    """``custom_dataset`` for one category; ``dataset_kwargs``: ``instructeval_category``."""
    category = option(kwargs, "instructeval_category")
    order, seed = order_and_seed(kwargs)
    return as_dataset_dict(build_docs(category, read_examples(category, kwargs), order, seed))
