"""Evaluate a model object you already have in memory (no path, no CLI) and get a pandas DataFrame back.

Wrap a loaded ``transformers`` model in lm-eval's ``HFLM`` and hand it to ``simple_evaluate``. By default this
builds the package's tiny random GPT-2 (offline, seconds), so expect pass@1 = 0: it shows the plumbing.

    python examples/python_api_in_memory.py
    python examples/python_api_in_memory.py --pretrained bigcode/octocoder --data-dir /data/humanevalpack --limit 5
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd
from _common import save_results, write_report

from lm_eval_octopack.data import MINI_DATA_DIR


def evaluate_in_memory(
    lm,
    tasks: list[str],
    data_dir: str,
    limit: int | None,
    output_dir: Path,  # noqa: ANN001
    gen_kwargs: str | None = None,
) -> pd.DataFrame:
    """pass@1 per task of an in-memory lm-eval model (e.g. ``HFLM(pretrained=<model object>, tokenizer=...)``)."""
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker

    from lm_eval_octopack import plugin
    from lm_eval_octopack.report.model import parse_task

    tracker = EvaluationTracker(output_path=str(output_dir))
    results = simple_evaluate(
        model=lm,
        tasks=tasks,
        limit=limit,
        gen_kwargs=gen_kwargs,
        log_samples=True,
        task_manager=plugin.task_manager(metadata={"data_dir": data_dir}),
        evaluation_tracker=tracker,
        confirm_run_unsafe_code=True,
        bootstrap_iters=0,
    )
    save_results(results, tracker)
    rows = []
    for task, metrics in results["results"].items():
        scenario, language = parse_task(task)
        rows.append(
            {"task": task, "scenario": scenario, "language": language, "pass@1": metrics.get("pass@1,execution")}
        )
    return pd.DataFrame(rows)


def load_model(pretrained: str | None):  # noqa: ANN201
    """A transformers model and tokenizer, loaded the usual way (here: the tiny local model unless given one)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if pretrained is None:
        from lm_eval_octopack.testing.tiny_model import build_tiny_model

        pretrained = str(build_tiny_model(Path(tempfile.mkdtemp()) / "tiny-model"))
    return AutoModelForCausalLM.from_pretrained(pretrained), AutoTokenizer.from_pretrained(pretrained)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    from lm_eval.models.huggingface import HFLM

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pretrained", default=None, help="model path or Hub name (default: tiny local model)")
    parser.add_argument("--tasks", nargs="+", default=["humanevalfix-python", "humanevalsynthesize-js"])
    parser.add_argument("--data-dir", default=str(MINI_DATA_DIR))
    parser.add_argument("--limit", type=int, default=1)
    parser.add_argument("--gen-kwargs", default="max_gen_toks=32")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--output-dir", type=Path, default=Path("octopack_examples") / "python_api_in_memory")
    args = parser.parse_args(argv)

    model, tokenizer = load_model(args.pretrained)
    lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=args.batch_size)
    table = evaluate_in_memory(lm, args.tasks, args.data_dir, args.limit, args.output_dir, args.gen_kwargs)
    write_report(args.output_dir, args.output_dir / "report.md")
    print(table.to_string(index=False))
    return table


if __name__ == "__main__":
    main()
