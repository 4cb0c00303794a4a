"""HumanEvalExplain in one run: describe, then synthesize from the model's own descriptions.

lm-eval builds every task's requests before it calls the model, so one ``simple_evaluate``
cannot feed stage-1 outputs into stage 2. :func:`run_with_describe_stage` wraps
``simple_evaluate``: when explain-synthesize tasks are requested without ``describe_samples``,
it loads the model once, runs the matching describe tasks, and hands their post-processed
descriptions (in memory) to the synthesize tasks. The describe results and samples are
merged into the returned results, so ``--output_path``/``--log_samples`` save both stages.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)
SYNTH_PREFIX = "humanevalexplainsynthesize-"
DESCRIBE_PREFIX = "humanevalexplaindescribe-"


def explain_languages(tasks: list) -> list[str]:
    """Languages of the explain-synthesize tasks a selection resolves to."""
    from lm_eval_octopack.taskgen import resolve_tasks

    selected = resolve_tasks([t for t in tasks if isinstance(t, str)])
    return sorted(name.removeprefix(SYNTH_PREFIX) for name in selected if name.startswith(SYNTH_PREFIX))


def _build_model(model, model_args, batch_size, max_batch_size, device):  # noqa: ANN001, ANN202
    import lm_eval.api.model
    from lm_eval.api.registry import get_model

    if isinstance(model, lm_eval.api.model.LM):
        return model
    extra = {"batch_size": batch_size, "max_batch_size": max_batch_size, "device": device}
    cls = get_model(model)
    if isinstance(model_args, dict):
        return cls.create_from_arg_obj(model_args, extra)
    return cls.create_from_arg_string(model_args or "", extra)


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

    lm = _build_model(kwargs["model"], kwargs.get("model_args"), kwargs.get("batch_size"),
                      kwargs.get("max_batch_size"), kwargs.get("device"))
    describe_tasks = [DESCRIBE_PREFIX + language for language in languages]
    logger.info("HumanEvalExplain: running the describe stage first: %s", ", ".join(describe_tasks))
    stage_one = simple_evaluate(**{**kwargs, "model": lm, "tasks": describe_tasks, "log_samples": True,
                                   "task_manager": _manager_like(task_manager, metadata)})
    descriptions = {
        language: [record["filtered_resps"][0] for record in _sorted(stage_one["samples"][DESCRIBE_PREFIX + language])]
        for language in languages
    }
    metadata["describe_samples"] = descriptions
    # A --limit already chose the problems in stage 1; stage 2 scores all their descriptions.
    stage_two = simple_evaluate(**{**kwargs, "model": lm, "metadata": metadata, "limit": None,
                                   "task_manager": _manager_like(task_manager, metadata)})
    return merge_results(stage_one, stage_two, keep_samples=bool(kwargs.get("log_samples", True)))


def _sorted(records: list[dict]) -> list[dict]:
    return sorted((r for r in records if r.get("filter") == "description"), key=lambda r: r["doc_id"])


def _manager_like(task_manager, metadata: dict):  # noqa: ANN001, ANN202
    from lm_eval.tasks import TaskManager

    merged = dict(task_manager.metadata or {}) | metadata
    return TaskManager(include_path=task_manager.include_path, metadata=merged,
                       include_defaults=getattr(task_manager, "include_defaults", False))


def merge_results(first: dict | None, second: dict | None, keep_samples: bool) -> dict | None:
    if first is None or second is None:  # non-zero ranks
        return second
    merged = dict(second)
    for key in ("results", "configs", "versions", "n-shot", "higher_is_better", "n-samples"):
        if key in first:
            merged[key] = {**first[key], **second.get(key, {})}
    if keep_samples and "samples" in first:
        merged["samples"] = {**first["samples"], **second.get("samples", {})}
    elif not keep_samples:
        merged.pop("samples", None)
    return merged


def install() -> None:
    """Wrap ``lm_eval.simple_evaluate`` (what lm-eval's CLI calls) once."""
    import lm_eval

    original = lm_eval.simple_evaluate
    if getattr(original, "_octopack_explain", False):
        return

    @functools.wraps(original)
    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        return run_with_describe_stage(original, *args, **kwargs)

    wrapper._octopack_explain = True  # type: ignore[attr-defined]
    lm_eval.simple_evaluate = wrapper
