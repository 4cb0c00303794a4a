"""HumanEvalExplain in one run: describe, then synthesize from the model's own descriptions.

lm-eval builds every task's requests before it calls the model, so one ``simple_evaluate``
cannot feed stage-1 outputs into stage 2. :func:`run_with_describe_stage` wraps
``simple_evaluate``: when explain-synthesize tasks are requested without ``describe_samples``,
it loads the model once, runs the matching describe tasks, and hands their post-processed
descriptions (in memory) to the synthesize tasks. The describe results and samples are
merged into the returned results, so ``--output_path``/``--log_samples`` save both stages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from lm_eval_octopack import lm_eval_compat

logger = logging.getLogger(__name__)
SYNTH_PREFIX = "humanevalexplainsynthesize-"
DESCRIBE_PREFIX = "humanevalexplaindescribe-"


def explain_languages(tasks: list) -> list[str]:
    """Languages of the explain-synthesize tasks a selection resolves to."""
    from lm_eval_octopack.catalogue import resolve_tasks

    selected = resolve_tasks([t for t in tasks if isinstance(t, str)])
    return sorted(name.removeprefix(SYNTH_PREFIX) for name in selected if name.startswith(SYNTH_PREFIX))


def run_with_describe_stage(simple_evaluate: Callable, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
    from lm_eval_octopack import plugin

    metadata = dict(kwargs.get("metadata") or {})
    tasks = list(kwargs.get("tasks") or [])
    if args or metadata.get("describe_samples") or kwargs.get("predict_only"):
        return simple_evaluate(*args, **kwargs)
    languages = explain_languages(tasks)
    if not languages:
        return simple_evaluate(*args, **kwargs)
    task_manager = kwargs.get("task_manager") or plugin.task_manager(include_defaults=False)

    lm = lm_eval_compat.build_model(
        kwargs["model"],
        kwargs.get("model_args"),
        {key: kwargs.get(key) for key in ("batch_size", "max_batch_size", "device")},
    )
    describe_tasks = [DESCRIBE_PREFIX + language for language in languages]
    logger.info("HumanEvalExplain: running the describe stage first: %s", ", ".join(describe_tasks))
    stage_one = simple_evaluate(
        **{
            **kwargs,
            "model": lm,
            "tasks": describe_tasks,
            "log_samples": True,
            "task_manager": lm_eval_compat.task_manager_like(task_manager, metadata),
        }
    )
    descriptions = {
        language: [record["filtered_resps"][0] for record in _sorted(stage_one["samples"][DESCRIBE_PREFIX + language])]
        for language in languages
    }
    metadata["describe_samples"] = descriptions
    # A --limit already chose the problems in stage 1; stage 2 scores all their descriptions.
    stage_two = simple_evaluate(
        **{
            **kwargs,
            "model": lm,
            "metadata": metadata,
            "limit": None,
            "task_manager": lm_eval_compat.task_manager_like(task_manager, metadata),
        }
    )
    return lm_eval_compat.merge_results(stage_one, stage_two, keep_samples=bool(kwargs.get("log_samples", True)))


def _sorted(records: list[dict]) -> list[dict]:
    return sorted((r for r in records if r.get("filter") == "description"), key=lambda r: r["doc_id"])


def install() -> None:
    """Wrap ``lm_eval.simple_evaluate`` (what lm-eval's CLI calls) once."""
    lm_eval_compat.wrap_simple_evaluate(run_with_describe_stage)
