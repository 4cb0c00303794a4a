"""Where HumanEvalPack rows come from: a local directory of ``{lang}.jsonl`` or the Hub.

Resolution order: an explicit ``data_dir`` (``--metadata data_dir=...``), then the
``OCTOPACK_DATA_DIR`` environment variable, then ``bigcode/humanevalpack`` on the Hugging
Face Hub. A failure ends in one readable :class:`DataUnavailableError`, never a stack trace
from ``datasets``.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

HUB_DATASET = "bigcode/humanevalpack"
DATA_DIR_ENV = "OCTOPACK_DATA_DIR"
EXPECTED_ROWS = 164


class DataUnavailableError(RuntimeError):
    """HumanEvalPack could be loaded neither from a local directory nor from the Hub."""


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    chosen = data_dir or os.environ.get(DATA_DIR_ENV)
    return Path(chosen).expanduser() if chosen else None


def load_rows(language: str, data_dir: str | os.PathLike | None = None) -> list[dict]:
    """All rows of one language, in dataset order (``task_id`` ``<Prefix>/0`` ... ``/163``)."""
    directory = resolve_data_dir(data_dir)
    if directory is not None:
        return list(_load_local(str(directory), language))
    return list(_load_hub(language))


@lru_cache(maxsize=16)
def _load_local(directory: str, language: str) -> tuple[dict, ...]:
    path = Path(directory) / f"{language}.jsonl"
    if not path.is_file():
        raise DataUnavailableError(
            f"HumanEvalPack file not found: {path}\n"
            f"The data directory (from data_dir= or ${DATA_DIR_ENV}) must hold python.jsonl, js.jsonl, "
            "java.jsonl, go.jsonl, cpp.jsonl and rust.jsonl, as in the bigcode/humanevalpack dataset."
        )
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise DataUnavailableError(f"{path}:{line_number} is not valid JSON: {err}") from None
    return tuple(rows)


@lru_cache(maxsize=16)
def _load_hub(language: str) -> tuple[dict, ...]:
    try:
        import datasets

        split = datasets.load_dataset(HUB_DATASET, language, split="test")
    except Exception as err:  # datasets raises many unrelated types for "offline"
        raise DataUnavailableError(
            f"Could not load {HUB_DATASET} ({language}) from the Hugging Face Hub: {type(err).__name__}: {err}\n"
            f"Offline? Point to a local copy instead: --metadata data_dir=/path/to/humanevalpack "
            f"(or export {DATA_DIR_ENV}=/path/to/humanevalpack), a directory with {language}.jsonl."
        ) from None
    return tuple(dict(row) for row in split)
