"""Where HumanEvalPack rows come from: a local directory of ``{lang}.jsonl`` or the Hub.

Resolution order: an explicit ``data_dir`` (``--metadata data_dir=...``), then the
``OCTOPACK_DATA_DIR`` environment variable, then ``bigcode/humanevalpack`` on the Hugging
Face Hub at the pinned commit :data:`HUB_REVISION`, read from its parquet files (no dataset
script). Either way the file and its SHA-256 are recorded in the results' ``configs``
(:func:`lm_eval_octopack.hub.record_source`). A failure ends in one readable
:class:`DataUnavailableError`, never a stack trace from the Hub client.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from lm_eval_octopack import hub

HUB_DATASET = "bigcode/humanevalpack"
#: The commit of ``bigcode/humanevalpack`` that is loaded (the parquet layout, one config per language).
HUB_REVISION = "9a41762f73a8cb23bb5811b73d5aab164efcf378"
HUB_SPLIT = "test"
DATA_DIR_ENV = "OCTOPACK_DATA_DIR"
EXPECTED_ROWS = 164


class DataUnavailableError(hub.DataSourceError):
    """HumanEvalPack could be loaded neither from a local directory nor from the Hub."""


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    chosen = data_dir or os.environ.get(DATA_DIR_ENV)
    return Path(chosen).expanduser() if chosen else None


def hub_filename(language: str) -> str:
    return hub.parquet_shard(language, HUB_SPLIT)


def load_rows(language: str, data_dir: str | os.PathLike | None = None) -> list[dict]:
    """All rows of one language, in dataset order (``task_id`` ``<Prefix>/0`` ... ``/163``)."""
    directory = resolve_data_dir(data_dir)
    if directory is not None:
        rows, source = _load_local(str(directory), language)
    else:
        rows, source = _load_hub(language)
    hub.record_source(source)
    return list(rows)


@lru_cache(maxsize=16)
def _load_local(directory: str, language: str) -> tuple[tuple[dict, ...], dict[str, Any]]:
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
    return tuple(rows), hub.local_source(Path(directory), path)


@lru_cache(maxsize=16)
def _load_hub(language: str) -> tuple[tuple[dict, ...], dict[str, Any]]:
    filename = hub_filename(language)
    try:
        path = hub.download(HUB_DATASET, filename, HUB_REVISION)
        rows = hub.read_parquet_rows(path)
    except Exception as err:  # noqa: BLE001  (a download or a parquet failure means the same to the user)
        raise DataUnavailableError(
            f"Could not load {HUB_DATASET} ({filename} at {HUB_REVISION[:12]}) from the Hugging Face Hub "
            f"or its local cache: {err}\n"
            f"Offline? Point to a local copy instead: --metadata data_dir=/path/to/humanevalpack "
            f"(or export {DATA_DIR_ENV}=/path/to/humanevalpack), a directory with {language}.jsonl."
        ) from None
    return tuple(rows), hub.hub_source(HUB_DATASET, HUB_REVISION, filename, path)
