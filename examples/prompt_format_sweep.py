"""Same model, several prompt templates: how much does the prompt format move pass@1?

    python examples/prompt_format_sweep.py                                   # offline self-check, mini data
    python examples/prompt_format_sweep.py --model hf --model-args pretrained=bigcode/octocoder \\
        --templates instruct octocoder --tasks humanevalfix-python --data-dir /data/humanevalpack
"""

from __future__ import annotations

from _common import base_parser, evaluate, markdown_table, paired_runs, pass_at_1, percent, write_report


def main(argv: list[str] | None = None) -> dict[str, dict[str, float | None]]:
    parser = base_parser(__doc__, "prompt_format_sweep")
    parser.add_argument("--templates", nargs="+", default=["instruct", "octocoder", "wizardcoder", "codellama"])
    parser.add_argument("--tasks", nargs="+", default=["humanevalfix-python", "humanevalsynthesize-python"])
    args = parser.parse_args(argv)

    scores: dict[str, dict[str, float | None]] = {}
    for template in args.templates:
        run_dir = args.output_dir / template
        results = evaluate(args, args.tasks, run_dir, prompt=template)  # = --metadata prompt=<template>
        scores[template] = {task: pass_at_1(results, task) for task in args.tasks}
        write_report(run_dir, run_dir / "report.md")

    baseline = args.templates[0]
    header = ["template", *args.tasks, *(f"{task}: - {baseline} [95% CI], p" for task in args.tasks)]
    body = [
        [
            t,
            *map(percent, scores[t].values()),
            *(paired_runs(args.output_dir / baseline, args.output_dir / t, task) for task in args.tasks),
        ]
        for t in args.templates
    ]
    table = markdown_table(header, body)
    (args.output_dir / "summary.md").write_text("# pass@1 (%) by prompt template\n\n" + table)
    print(table)
    return scores


if __name__ == "__main__":
    main()
