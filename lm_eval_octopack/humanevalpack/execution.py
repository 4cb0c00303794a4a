"""From final code to verdicts: program assembly, then the execution backend.

One path for every caller: the lm-eval filter, ``score`` on saved generations, the
self-check model's runs and the benchmarks. A run with ``error`` verdicts gets no score: the
final codes are saved (``<cache dir>/unscored/``) so that nothing generated is lost, and the
stored verdicts make a rerun execute only what is missing.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from lm_eval_octopack.executors import get_backend
from lm_eval_octopack.executors.errors import UnscoredSamples
from lm_eval_octopack.executors.front import RunSummary
from lm_eval_octopack.executors.store import default_cache_dir
from lm_eval_octopack.executors.types import Program, Verdict
from lm_eval_octopack.humanevalpack.assemble import assemble_programs
from lm_eval_octopack.humanevalpack.metrics import refuse_unscored
from lm_eval_octopack.humanevalpack.options import RunOptions


def build_programs(
    docs: Sequence[dict], language: str, final_codes: Sequence[Sequence[str]], options: RunOptions
) -> list[list[Program]]:
    limits = options.limits(language)
    return [
        [
            Program(language=language, source=source, limits=limits)
            for source in assemble_programs(doc, language, list(codes))
        ]
        for doc, codes in zip(docs, final_codes, strict=True)
    ]


def execute(
    programs_per_doc: Sequence[Sequence[Program]],
    options: RunOptions,
    on_summary: Callable[[RunSummary], None] | None = None,
) -> list[list[Verdict]]:
    """Run every program of every doc in one backend call (so the backend can batch,
    deduplicate and parallelise across docs), then regroup per doc. ``on_summary`` gets the backend's
    ``RunSummary`` (a backend that keeps none gives none)."""
    flat = [program for programs in programs_per_doc for program in programs]
    backend_options = {"workers": options.workers} if options.workers else {}
    verdicts: list[Verdict] = []
    if flat:
        backend = get_backend(options.backend or "local", **backend_options)
        verdicts = backend.run(flat)
        summary = getattr(backend, "last_summary", None)
        if on_summary is not None and summary is not None:
            on_summary(summary)
    grouped, start = [], 0
    for programs in programs_per_doc:
        grouped.append(list(verdicts[start : start + len(programs)]))
        start += len(programs)
    return grouped


def score_final_codes(
    docs: Sequence[dict], language: str, final_codes: Sequence[Sequence[str]], options: RunOptions
) -> list[list[Verdict]]:
    """Verdicts per doc; raises ``UnscoredSamples`` (after saving the final codes) if any is ``error``."""
    verdicts = execute(build_programs(docs, language, final_codes, options), options)
    try:
        refuse_scoring_errors(verdicts)
    except UnscoredSamples as err:
        saved = save_unscored(docs, language, final_codes)
        raise UnscoredSamples(f"{err} {_how_to_resume(saved, docs, language)}", err.errors, err.samples) from None
    return verdicts


def refuse_scoring_errors(verdicts: Sequence[Sequence[Verdict]]) -> None:
    flat = [verdict for doc_verdicts in verdicts for verdict in doc_verdicts]
    first_error = next((verdict.detail for verdict in flat if verdict.status == "error"), "")
    refuse_unscored((verdict.status for verdict in flat), first_error)


def save_unscored(docs: Sequence[dict], language: str, final_codes: Sequence[Sequence[str]]) -> Path | None:
    """Write the final codes as a generations JSON (one list per doc) that ``score`` accepts; the cache dir first,
    the temporary directory when the cache cannot be written. None if neither can."""
    scenario = docs[0].get("scenario", "code") if docs else "code"
    name = f"{scenario}-{language}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    for folder in (default_cache_dir() / "unscored", Path(tempfile.gettempdir()) / "lm-eval-octopack-unscored"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / name
            target.write_text(json.dumps([list(codes) for codes in final_codes]), encoding="utf-8")
            return target
        except OSError:
            continue
    return None


def _how_to_resume(saved: Path | None, docs: Sequence[dict], language: str) -> str:
    if saved is None:
        return "The final codes could not be saved anywhere."
    scenario = docs[0].get("scenario") if docs else None
    if scenario and scenario != "explainsynthesize":
        return (
            f"The final codes are saved in {saved}; once the cause is fixed, score them with "
            f"`lm-eval-octopack score --task humaneval{scenario}-{language} --generations {saved} --format final`."
        )
    return f"The final codes are saved in {saved}."
