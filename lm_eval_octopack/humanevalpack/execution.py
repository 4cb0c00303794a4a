"""From final code to verdicts: program assembly, then the execution backend.

One path for every caller: the lm-eval filter, ``score`` on saved generations, the
self-check model's runs and the benchmarks.
"""

from __future__ import annotations

from collections.abc import Sequence

from lm_eval_octopack.executors import get_backend
from lm_eval_octopack.executors.types import Program, Verdict
from lm_eval_octopack.humanevalpack.assemble import assemble_programs
from lm_eval_octopack.humanevalpack.options import RunOptions


def build_programs(docs: Sequence[dict], language: str, final_codes: Sequence[Sequence[str]], options: RunOptions
                   ) -> list[list[Program]]:
    limits = options.limits(language)
    return [
        [Program(language=language, source=source, limits=limits) for source in assemble_programs(doc, language, list(codes))]
        for doc, codes in zip(docs, final_codes, strict=True)
    ]


def execute(programs_per_doc: Sequence[Sequence[Program]], options: RunOptions) -> list[list[Verdict]]:
    """Run every program of every doc in one backend call (so the backend can batch,
    deduplicate and parallelise across docs), then regroup per doc."""
    flat = [program for programs in programs_per_doc for program in programs]
    backend_options = {"workers": options.workers} if options.workers else {}
    verdicts = get_backend(options.backend or "local", **backend_options).run(flat) if flat else []
    grouped, start = [], 0
    for programs in programs_per_doc:
        grouped.append(list(verdicts[start:start + len(programs)]))
        start += len(programs)
    return grouped


def score_final_codes(docs: Sequence[dict], language: str, final_codes: Sequence[Sequence[str]], options: RunOptions
                      ) -> list[list[Verdict]]:
    return execute(build_programs(docs, language, final_codes, options), options)
