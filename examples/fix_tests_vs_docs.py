"""HumanEvalFix with the unit tests (fixtests, the paper's main number) vs. with the docstring (fixdocs).

    python examples/fix_tests_vs_docs.py                                     # offline self-check, mini data
    python examples/fix_tests_vs_docs.py --model hf --model-args pretrained=bigcode/octocoder \\
        --prompt octocoder --data-dir /data/humanevalpack
"""

from __future__ import annotations

from _common import base_parser, evaluate, markdown_table, paired_tasks, pass_at_1, percent, write_report

from lm_eval_octopack.language_facts import LANGUAGES


def main(argv: list[str] | None = None) -> list[list]:
    parser = base_parser(__doc__, "fix_tests_vs_docs")
    parser.add_argument("--languages", nargs="+", default=LANGUAGES, choices=LANGUAGES)
    parser.add_argument("--prompt", default="instruct", help="prompt template (see README)")
    args = parser.parse_args(argv)

    tasks = [f"humanevalfix{kind}-{lang}" for lang in args.languages for kind in ("tests", "docs")]
    results = evaluate(args, tasks, args.output_dir, prompt=args.prompt)
    rows = []
    for lang in args.languages:
        with_tests = pass_at_1(results, f"humanevalfixtests-{lang}")
        with_docs = pass_at_1(results, f"humanevalfixdocs-{lang}")
        rows.append([lang, percent(with_tests), percent(with_docs), f"{100 * (with_docs - with_tests):+.1f}"])

    paired = [
        [*row, paired_tasks(args.output_dir, f"humanevalfixtests-{row[0]}", f"humanevalfixdocs-{row[0]}")]
        for row in rows
    ]  # the same problems with tests and with docs: a paired comparison
    table = markdown_table(
        [
            "language",
            "fix with tests",
            "fix with docs",
            "docs - tests",
            "docs - tests [95% CI], p (paired over problems)",
        ],
        paired,
    )
    write_report(args.output_dir, args.output_dir / "report.md")
    (args.output_dir / "summary.md").write_text("# pass@1 (%): HumanEvalFixTests vs. HumanEvalFixDocs\n\n" + table)
    print(table)
    return rows


if __name__ == "__main__":
    main()
