"""Published HumanEvalPack pass@1 numbers (OctoPack paper, Table 2), shipped as data."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from lm_eval_octopack.report.model import LANGUAGES, Cell, TableRow


@lru_cache(maxsize=1)
def published_models() -> dict[str, dict[str, Any]]:
    text = resources.files("lm_eval_octopack.report").joinpath("published.json").read_text()
    return json.loads(text)["models"]


def resolve_names(names: list[str]) -> list[str]:
    """Case-insensitive lookup; unknown names raise ``KeyError`` listing what is available."""
    by_lower = {name.lower(): name for name in published_models()}
    resolved = []
    for name in names:
        if name.lower() not in by_lower:
            raise KeyError(f"no published numbers for {name!r}; available: {', '.join(published_models())}")
        resolved.append(by_lower[name.lower()])
    return resolved


def published_row(name: str, scenario: str) -> TableRow | None:
    model = published_models()[name]
    scores = (model.get("scores") or {}).get(scenario)
    if not scores:
        return None
    cells = [Cell(scores.get(language)) for language in LANGUAGES] + [Cell(scores.get("avg"))]
    return TableRow(f"{name} (published)", cells, published=True, source=model.get("source"))
