"""Shared plumbing of the example scripts: arguments, one evaluation call, saving results, Markdown reports.

Defaults give an offline run in seconds: the self-check model (answers from the dataset) on the mini HumanEvalPack
shipped with the package. For a real model: ``--model hf --model-args pretrained=bigcode/octocoder,dtype=bfloat16``
(or ``--model vllm``/``octopack-vllm``) and ``--data-dir /path/to/humanevalpack`` (or no data dir: the Hub).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from lm_eval_octopack.data import MINI_DATA_DIR
from lm_eval_octopack.provenance import write_sidecars_since

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def base_parser(description: str, output_name: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--model", default="octopack-reference", help="lm-eval model name (hf, vllm, ...)")
    parser.add_argument(
        "--model-args", default="pretrained=octopack-reference,solution=canonical", help="lm-eval --model_args string"
    )
    parser.add_argument("--data-dir", default=str(MINI_DATA_DIR), help="HumanEvalPack {lang}.jsonl directory")
    parser.add_argument("--limit", type=int, default=None, help="problems per task (default: all)")
    parser.add_argument("--batch-size", default="auto", help="lm-eval batch size (auto: vLLM gets whole batches)")
    parser.add_argument("--device", default=None, help="e.g. cpu, cuda:0")
    parser.add_argument("--gen-kwargs", default=None, help="lm-eval --gen_kwargs, e.g. max_gen_toks=512")
    parser.add_argument("--output-dir", type=Path, default=Path("octopack_examples") / output_name)
    return parser


def load_model(args: argparse.Namespace) -> Any:
    """The lm-eval model of ``--model``/``--model-args``, built once so that several runs can share it."""
    from lm_eval.api.registry import get_model

    from lm_eval_octopack import plugin

    plugin.register_models()
    config = {"batch_size": args.batch_size, "device": args.device}
    return get_model(args.model).create_from_arg_string(args.model_args, config)


def evaluate(
    args: argparse.Namespace,
    tasks: list,
    output_dir: Path,
    gen_kwargs: str | None = None,
    model: Any = None,
    **options: Any,
) -> dict:
    """Run ``tasks`` (names or Task objects) with run ``options`` (``prompt=``, ...); save under ``output_dir``.

    ``model``: an already loaded lm-eval model (:func:`load_model`) instead of loading ``--model`` again.
    """
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker

    from lm_eval_octopack import plugin

    metadata = {"data_dir": args.data_dir, **options}
    tracker = EvaluationTracker(output_path=str(output_dir))
    started = time.time()
    results = simple_evaluate(
        model=args.model if model is None else model,
        model_args=args.model_args,
        tasks=tasks,
        limit=args.limit,
        batch_size=args.batch_size,
        device=args.device,
        gen_kwargs=_join(args.gen_kwargs, gen_kwargs),
        log_samples=True,
        task_manager=plugin.task_manager(metadata=metadata),
        evaluation_tracker=tracker,
        confirm_run_unsafe_code=True,
        bootstrap_iters=0,
    )
    results["config"]["model"] = args.model  # lm-eval records a loaded model by its class name
    save_results(results, tracker)
    write_sidecars_since(output_dir, started)  # toolchains, data hashes, sandbox: what the results file lacks
    return results


def save_results(results: dict, tracker: Any) -> None:
    """What ``lm-eval --output_path --log_samples`` writes: ``results_<date>.json`` and ``samples_<task>_<date>.jsonl``."""
    samples = results.pop("samples")
    tracker.save_results_aggregated(results=results, samples=samples)
    for task_name in results["configs"]:
        tracker.save_results_samples(task_name=task_name, samples=samples[task_name])


def write_report(results_dir: Path, markdown_path: Path) -> Path:
    """The package's Markdown report (Table 2 layout, breakdowns) for every results file under ``results_dir``."""
    from lm_eval_octopack.report import build_report, render_markdown

    markdown_path.parent.mkdir(parents=True, exist_ok=True)
    markdown_path.write_text(render_markdown(build_report([results_dir])))
    return markdown_path


def _join(*gen_kwargs: str | None) -> str | None:
    return ",".join(part for part in gen_kwargs if part) or None


def pass_at_1(results: dict, task: str) -> float | None:
    return results["results"][task].get("pass@1,execution")


def percent(score: float | None) -> str:
    return "–" if score is None else f"{100 * score:.1f}"


def markdown_table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(value) for value in row) + " |" for row in rows]) + "\n"


def paired_tasks(run_dir: Path, task_a: str, task_b: str, metric: str = "pass@1") -> str:
    """``task_b - task_a`` within one saved run, paired by problem: ``"+3.1 [-0.4, +6.7], p=0.084"``."""
    from lm_eval_octopack.report.compare import load_run

    run = load_run(run_dir)
    return _paired(run.tasks.get(task_a), run.tasks.get(task_b), metric)


def paired_runs(run_dir_a: Path, run_dir_b: Path, task: str, metric: str = "pass@1") -> str:
    """Run B - run A on ``task``, paired by problem (same statistics as ``lm-eval-octopack compare``)."""
    from lm_eval_octopack.report.compare import load_run

    return _paired(load_run(run_dir_a).tasks.get(task), load_run(run_dir_b).tasks.get(task), metric)


def _paired(a: Any, b: Any, metric: str) -> str:
    from lm_eval_octopack.report.compare import paired_values
    from lm_eval_octopack.stats import format_comparison, paired_comparison

    pair = paired_values(a, b, metric) if a is not None and b is not None else None
    if pair is None:
        return "–"
    return format_comparison(paired_comparison([pair[0]], [pair[1]]))
