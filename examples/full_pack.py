"""One model on the whole HumanEvalPack: Fix, Explain (describe, then synthesize from the descriptions), Synthesize,
in all six languages, and the paper's Table 2 as Markdown.

Explain needs two generation passes; ``run_with_describe_stage`` runs the describe stage first and feeds its
descriptions to the synthesize stage, in one call (the CLI does the same for ``--tasks humanevalpack``).

    python examples/full_pack.py --limit 2                                   # offline self-check, mini data
    python examples/full_pack.py --model vllm --model-args pretrained=bigcode/octocoder,tensor_parallel_size=1 \\
        --prompt octocoder --data-dir /data/humanevalpack
"""

from __future__ import annotations

from _common import base_parser, save_results, write_report
from lm_eval.loggers import EvaluationTracker

from lm_eval_octopack.language_facts import LANGUAGES

SCENARIOS = ["humanevalfixtests", "humanevalexplainsynthesize", "humanevalsynthesize"]


def main(argv: list[str] | None = None) -> dict:
    from lm_eval import simple_evaluate

    from lm_eval_octopack import plugin
    from lm_eval_octopack.humanevalpack.explain_stage import run_with_describe_stage

    parser = base_parser(__doc__, "full_pack")
    parser.add_argument("--languages", nargs="+", default=LANGUAGES, choices=LANGUAGES)
    parser.add_argument("--prompt", default="instruct", help="prompt template (see README)")
    args = parser.parse_args(argv)

    tasks = [f"{scenario}-{lang}" for scenario in SCENARIOS for lang in args.languages]
    metadata = {"data_dir": args.data_dir, "prompt": args.prompt}
    tracker = EvaluationTracker(output_path=str(args.output_dir))
    results = run_with_describe_stage(
        simple_evaluate,
        model=args.model,
        model_args=args.model_args,
        tasks=tasks,
        limit=args.limit,
        batch_size=args.batch_size,
        device=args.device,
        gen_kwargs=args.gen_kwargs,
        metadata=metadata,
        task_manager=plugin.task_manager(metadata=metadata),
        evaluation_tracker=tracker,
        log_samples=True,
        confirm_run_unsafe_code=True,
        bootstrap_iters=0,
    )
    save_results(results, tracker)
    report = write_report(args.output_dir, args.output_dir / "report.md")
    print(report.read_text())
    return results


if __name__ == "__main__":
    main()
