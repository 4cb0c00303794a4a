"""Where each suite's data comes from: a local directory in the original file format, or the
Hugging Face Hub source INSTRUCTEVAL used (BBH and DROP only).

Lookup order for suite ``s`` (``mmlu``, ``bbh``, ``drop``, ``crass``, ``hhh``):

1. ``--metadata s_dir=PATH`` (also accepted from ``TaskManager(metadata=...)``);
2. environment variable ``OCTOPACK_<S>_DIR``;
3. ``instructeval_dir`` metadata or ``OCTOPACK_INSTRUCTEVAL_DIR``, subfolder named after the suite
   (``hhh`` or ``hhh_alignment`` for HHH);
4. the Hub, for BBH (``lukaemon/bbh``) and DROP (``ucinlp/drop``, formerly ``drop``): their parquet
   files at the commits pinned in :data:`HUB_REVISIONS` (no dataset script), through the Hugging
   Face cache, so ``HF_HUB_OFFLINE=1`` works from a warm cache;
5. otherwise :class:`InstructEvalDataError` with a message that says what to provide.

Every file read, local or from the Hub, is recorded with its SHA-256 (and the Hub commit) in the
task's ``metadata["data_source"]``, which lm-eval writes to ``configs`` in the results file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lm_eval_octopack import hub

#: Pinned commits of the Hub sources; a Hub id not listed here (``bbh_hub_id`` / ``drop_hub_id``) loads ``main``,
#: and the commit actually read is what gets recorded.
BBH_REVISION = "982bb89fd79532a8ac676a61fc42eb1aeec63f99"
DROP_REVISION = "95cda593fae71b60b5b19f82de3fcf3298c1239c"
HUB_REVISIONS: dict[str, str] = {"lukaemon/bbh": BBH_REVISION, "ucinlp/drop": DROP_REVISION}
UNPINNED_REVISION = "main"
PARENT_ENV = "OCTOPACK_INSTRUCTEVAL_DIR"
SUBFOLDERS: dict[str, tuple[str, ...]] = {
    "mmlu": ("mmlu",),
    "bbh": ("bbh",),
    "drop": ("drop",),
    "crass": ("crass",),
    "hhh": ("hhh", "hhh_alignment"),
}
EXPECTED_LAYOUT: dict[str, str] = {
    "mmlu": "{dev,test}/{subject}_{dev,test}.csv (Hendrycks data.tar layout, no header)",
    "bbh": "{task}.json (BIG-Bench-Hard bbh/ folder)",
    "drop": "drop_dataset_dev.json (from drop_dataset.zip)",
    "crass": "CRASS_FTM_main_data_set.csv (apergo-ai/CRASS-data-set)",
    "hhh": "{harmless,helpful,honest,other}/task.json (BIG-bench hhh_alignment)",
}
WHERE_TO_GET: dict[str, str] = {
    "mmlu": "https://people.eecs.berkeley.edu/~hendrycks/data.tar (unpack data/ and point at data/)",
    "bbh": "https://github.com/suzgunmirac/BIG-Bench-Hard (bbh/ folder), or the Hub dataset lukaemon/bbh",
    "drop": "https://s3-us-west-2.amazonaws.com/allennlp/datasets/drop/drop_dataset.zip, or the Hub dataset ucinlp/drop",
    "crass": "https://github.com/apergo-ai/CRASS-data-set (CRASS_FTM_main_data_set.csv)",
    "hhh": "https://github.com/google/BIG-bench (bigbench/benchmark_tasks/hhh_alignment)",
}


class InstructEvalDataError(hub.DataSourceError):
    """Raised when a suite's data can be found neither locally nor on the Hub."""


def suite_env(suite: str) -> str:
    return f"OCTOPACK_{suite.upper()}_DIR"


def local_dir(suite: str, metadata: Mapping[str, Any]) -> Path | None:
    """The suite's local data directory, or None when none was configured."""
    explicit = metadata.get(f"{suite}_dir") or os.environ.get(suite_env(suite))
    if explicit:
        path = Path(str(explicit)).expanduser()
        if not path.is_dir():
            raise InstructEvalDataError(f"{suite}: configured data directory {path} does not exist")
        return path
    parent = metadata.get("instructeval_dir") or os.environ.get(PARENT_ENV)
    if parent:
        for name in SUBFOLDERS[suite]:
            candidate = Path(str(parent)).expanduser() / name
            if candidate.is_dir():
                return candidate
    return None


def missing_data_message(suite: str, detail: str = "") -> str:
    folders = " or ".join(SUBFOLDERS[suite])
    lines = [
        f"INSTRUCTEVAL {suite}: no data found{': ' + detail if detail else ''}.",
        f"Provide a local directory holding {EXPECTED_LAYOUT[suite]} with --metadata {suite}_dir=PATH, "
        f"the environment variable {suite_env(suite)}, or {PARENT_ENV}=PARENT with a '{folders}' subfolder.",
        f"Source: {WHERE_TO_GET[suite]}",
    ]
    return "\n".join(lines)


def require_file(suite: str, path: Path) -> Path:
    """``path``, recorded as the task's data source; a readable error when it is missing."""
    if not path.is_file():
        raise InstructEvalDataError(missing_data_message(suite, f"expected file {path} is missing"))
    hub.record_source(hub.local_source(path.parent, path))
    return path


def hub_revision(hub_id: str) -> str:
    return HUB_REVISIONS.get(hub_id, UNPINNED_REVISION)


def load_hub_split(suite: str, hub_id: str, config: str | None, split: str) -> list[dict[str, Any]]:
    """The rows of one split of a Hub dataset (its parquet shard), with failures turned into one readable error."""
    filename = hub.parquet_shard(config, split)
    revision = hub_revision(hub_id)
    try:
        path = hub.download(hub_id, filename, revision)
        rows = hub.read_parquet_rows(path)
    except Exception as exc:  # noqa: BLE001  (any download or parquet failure means the same thing to the user)
        offline = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("HF_DATASETS_OFFLINE")
        detail = f"loading {hub_id}/{filename} at {revision[:12]} from the Hub failed"
        detail += " (offline mode is on and the Hugging Face cache has no copy)" if offline else f" ({exc})"
        raise InstructEvalDataError(missing_data_message(suite, detail)) from None
    hub.record_source(hub.hub_source(hub_id, revision, filename, path))
    return rows
