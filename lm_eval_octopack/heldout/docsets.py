"""Helpers shared by the suite loaders: rows -> the ``DatasetDict`` lm-eval's ``custom_dataset`` must return."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import datasets

TEST_SPLIT = "test"


def as_dataset_dict(rows: list[dict[str, Any]]) -> datasets.DatasetDict:
    return datasets.DatasetDict({TEST_SPLIT: datasets.Dataset.from_list(rows)})


def option(kwargs: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """A per-task setting from ``dataset_kwargs`` (they arrive mixed with the run's metadata)."""
    value = kwargs.get(key, default)
    if value is None:
        raise KeyError(f"task YAML must set dataset_kwargs.{key}")
    return value
