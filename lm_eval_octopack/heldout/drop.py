"""DROP as INSTRUCTEVAL runs it (3-shot, 8 generated tokens, prefix match; *not* DROP EM/F1).

Pipeline, each step a function so the scored count (6,285 on the real validation set) follows
from the rule:

1. :func:`builder_rows` -- what the HF ``drop`` builder yields for ``drop_dataset_dev.json``
   (9,535 rows): answers from ``validated_answers`` only, one span per number, per date
   (``"day month year".strip()``) and per text span; rows whose answers break the builder's
   assertions are skipped.
2. :func:`unanimous` -- keep rows whose stripped spans are all the same string.
3. :func:`split_shots` -- ``random.seed(0); random.sample(rows, 3)`` gives the shots in sampled
   order; the scored rows are every kept row whose passage is not a shot's passage.

Data: a local ``drop_dataset_dev.json`` or the Hub's ``ucinlp/drop`` validation split.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from typing import Any

import datasets

from .docsets import as_dataset_dict
from .prompts import answer_block, drop_text
from .shots import FitsCheck, fit_shots, fits_check
from .sources import load_hub_split, local_dir, require_file

SUITE = "drop"
HUB_ID = "ucinlp/drop"
DEV_FILE = "drop_dataset_dev.json"
NUM_SHOTS = 3
SHOT_SEED = 0


def answer_spans(validated_answers: Iterable[dict]) -> list[str] | None:
    """The builder's span list for one question, or None where the builder skips the row."""
    spans: list[str] = []
    for answer in validated_answers:
        date = answer.get("date") or {}
        date_parts = [date.get("day", ""), date.get("month", ""), date.get("year", "")]
        has_date = any(date_parts)
        number = answer.get("number", "")
        texts = answer.get("spans", [])
        kinds = sum([number != "", has_date, len(texts) > 0])
        if kinds > 1:
            return None
        if number != "":
            spans.append(number)
        elif has_date:
            spans.append(" ".join(date_parts).strip())
        spans.extend(texts)
    return spans or None


def builder_rows(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the validation split, in file order (section, then qa_pairs)."""
    rows = []
    for section_id, section in raw.items():
        for qa in section["qa_pairs"]:
            spans = answer_spans(qa["validated_answers"])
            if spans is not None:
                rows.append(
                    {
                        "section_id": section_id,
                        "query_id": qa["query_id"],
                        "passage": section["passage"],
                        "question": qa["question"],
                        "spans": spans,
                    }
                )
    return rows


def unanimous(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for row in rows if len({span.strip() for span in row["spans"]}) == 1]


def split_shots(
    rows: list[dict[str, Any]], k: int = NUM_SHOTS, seed: int = SHOT_SEED
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    shots = random.Random(seed).sample(rows, k=k)  # same draw as random.seed(seed); random.sample(...)
    shot_passages = {row["passage"] for row in shots}
    return shots, [row for row in rows if row["passage"] not in shot_passages]


def label(row: dict[str, Any]) -> str:
    return row["spans"][0].strip()


def build_docs(rows: list[dict[str, Any]], ntrain: int, fits: FitsCheck | None) -> list[dict]:
    shots, test = split_shots(unanimous(rows))
    shot_blocks = [answer_block(drop_text(r["passage"], r["question"]), label(r)) for r in shots[:ntrain]]
    docs = []
    for row in test:
        prompt, k = fit_shots("", shot_blocks, answer_block(drop_text(row["passage"], row["question"])), fits)
        docs.append({"prompt": prompt, "label": label(row), "query_id": row["query_id"], "n_shots": k})
    return docs


def read_rows(metadata: dict[str, Any]) -> list[dict[str, Any]]:
    root = local_dir(SUITE, metadata)
    if root is not None:
        with open(require_file(SUITE, root / DEV_FILE), encoding="utf-8") as handle:
            return builder_rows(json.load(handle))
    hub_rows = load_hub_split(SUITE, str(metadata.get("drop_hub_id") or HUB_ID), None, "validation")
    return [
        {
            "query_id": r["query_id"],
            "passage": r["passage"],
            "question": r["question"],
            "spans": r["answers_spans"]["spans"],
        }
        for r in hub_rows
    ]


def load(**kwargs: Any) -> datasets.DatasetDict:
    """``custom_dataset`` for DROP; ``dataset_kwargs``: ``instructeval_shots`` (3)."""
    ntrain = int(kwargs.get("instructeval_shots", NUM_SHOTS))
    return as_dataset_dict(build_docs(read_rows(kwargs), ntrain, fits_check(kwargs)))
