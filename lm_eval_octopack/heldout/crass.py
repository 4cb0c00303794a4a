"""CRASS as INSTRUCTEVAL runs it: the 274-row ``CRASS_FTM_main_data_set.csv`` split on ``;``
(not a CSV parser), options shuffled with ``random.seed(0)`` in file order, three fixed shots
from the CRASS paper (or none at 0-shot), 8 generated tokens, prefix match on the letter.

Data: local only (the CSV lives on GitHub, not on a registry); see :mod:`.sources`.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

import datasets

from .docsets import as_dataset_dict, option
from .prompts import LETTERS, crass_block, crass_shot_blocks
from .shots import FitsCheck, fit_shots, fits_check
from .sources import InstructEvalDataError, local_dir, missing_data_message, require_file

SUITE = "crass"
CSV_FILE = "CRASS_FTM_main_data_set.csv"
SHUFFLE_SEED = 0


def parse_lines(lines: Iterable[str], seed: int = SHUFFLE_SEED) -> list[dict[str, Any]]:
    """Items from the CSV lines (header first), with the reference's split, strip and shuffle."""
    rng = random.Random(seed)  # same stream as random.seed(seed) followed by random.shuffle
    items = []
    for line in list(lines)[1:]:
        if not line.strip():
            continue
        _, _, premise, question, *raw_options = line.strip().split(";")
        options = [text.strip() for text in raw_options[:4] if text.strip()]
        answer = options[0]
        rng.shuffle(options)
        items.append({"premise": premise, "question": question, "options": options, "answer": answer})
    return items


def letter(item: dict[str, Any]) -> str:
    return LETTERS[item["options"].index(item["answer"])]


def build_docs(items: list[dict[str, Any]], ntrain: int, fits: FitsCheck | None) -> list[dict]:
    shots = crass_shot_blocks()[:ntrain]
    docs = []
    for item in items:
        test_part = crass_block(item["premise"], item["question"], item["options"])
        prompt, k = fit_shots("", shots, test_part, fits)
        docs.append({"prompt": prompt, "label": letter(item), "n_options": len(item["options"]), "n_shots": k})
    return docs


def read_items(metadata: dict[str, Any]) -> list[dict[str, Any]]:
    root = local_dir(SUITE, metadata)
    if root is None:
        raise InstructEvalDataError(missing_data_message(SUITE, "CRASS needs a local copy of the CSV"))
    with open(require_file(SUITE, root / CSV_FILE), encoding="utf-8") as handle:
        return parse_lines(handle)


def load(**kwargs: Any) -> datasets.DatasetDict:
    """``custom_dataset`` for CRASS; ``dataset_kwargs``: ``instructeval_shots`` (3 or 0)."""
    ntrain = int(option(kwargs, "instructeval_shots"))
    return as_dataset_dict(build_docs(read_items(kwargs), ntrain, fits_check(kwargs)))
