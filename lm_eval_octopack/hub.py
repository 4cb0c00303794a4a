"""Data files from Hugging Face Hub dataset repositories at pinned revisions, and the record of
where a task's data came from.

Files are fetched with ``huggingface_hub.hf_hub_download`` (cached under ``HF_HUB_CACHE``, honours
``HF_HUB_OFFLINE``) and read directly, so no dataset loading script is ever involved (``datasets``
>= 4 refuses them). Each loader reports its files with :func:`record_source`; the report lands in
the lm-eval task's ``metadata["data_source"]``, which lm-eval writes to ``configs`` in every
results file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lm_eval_octopack import lm_eval_compat

SOURCE_KEY = "data_source"


class DataSourceError(RuntimeError):
    """A benchmark's data could be had neither locally nor from the Hub; the message says what to provide."""


class HubDownloadError(DataSourceError):
    """A file could not be had from the Hub or from the local Hugging Face cache."""


def parquet_shard(config: str | None, split: str) -> str:
    """Where ``datasets``' parquet layout keeps a one-shard split: ``{config}/{split}-00000-of-00001.parquet``,
    or ``data/...`` for a dataset without named configs."""
    return f"{config or 'data'}/{split}-00000-of-00001.parquet"


def download(repo_id: str, filename: str, revision: str) -> Path:
    """The local path of ``filename`` in dataset ``repo_id`` at ``revision`` (from the cache when present)."""
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(repo_id, filename, repo_type="dataset", revision=revision))
    except Exception as err:  # noqa: BLE001  (offline, missing file, HTTP, auth: the same thing to the user)
        raise HubDownloadError(f"{type(err).__name__}: {str(err)[:300]}") from None


def read_parquet_rows(path: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def snapshot_commit(path: Path, fallback: str) -> str:
    """The commit a cached file belongs to (``.../snapshots/<commit>/...``): the real hash even when
    ``revision`` was a branch name."""
    parts = path.parts
    if "snapshots" in parts:
        index = len(parts) - 1 - parts[::-1].index("snapshots")
        if index + 1 < len(parts):
            return parts[index + 1]
    return fallback


def hub_source(repo_id: str, revision: str, filename: str, path: Path) -> dict[str, Any]:
    return {"hub": repo_id, "revision": snapshot_commit(path, revision), "files": {filename: sha256_of(path)}}


def local_source(directory: Path, path: Path) -> dict[str, Any]:
    directory = directory.resolve()
    resolved = path.resolve()
    name = str(resolved.relative_to(directory)) if resolved.is_relative_to(directory) else str(resolved)
    return {"local": str(directory), "files": {name: sha256_of(path)}}


def record_source(source: Mapping[str, Any]) -> None:
    """Add ``source`` (from :func:`hub_source` / :func:`local_source`) to the lm-eval task whose data is
    being loaded; a no-op outside lm-eval (``score``, scripts)."""
    task = lm_eval_compat.task_being_loaded()
    if task is None:
        return
    merge_source(lm_eval_compat.task_metadata(task).setdefault(SOURCE_KEY, []), source)


def merge_source(sources: list[dict[str, Any]], source: Mapping[str, Any]) -> None:
    origin = {key: value for key, value in source.items() if key != "files"}
    for known in sources:
        if {key: value for key, value in known.items() if key != "files"} == origin:
            known["files"].update(source["files"])
            return
    sources.append({**origin, "files": dict(source["files"])})
