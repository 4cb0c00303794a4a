"""``lm-eval-octopack report``: tables from lm-eval results files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lm_eval_octopack.report.load import build_report
from lm_eval_octopack.report.published import published_models, resolve_names
from lm_eval_octopack.report.render import render_console, render_html, render_markdown, render_png

DESCRIPTION = """\
Summarise HumanEvalPack results in the layout of the OctoPack paper's Table 2
(rows Fix / Explain / Synthesize / FixDocs, columns Python ... Rust, Avg.; pass@k x 100).

RESULTS are lm-eval results files (results_<date>.json) or output directories, searched
recursively. Samples files written by the same run (samples_<task>_<date>.jsonl, same
directory, same date) are read automatically; they add bug-type, failure-symptom and
verdict-status breakdowns. Works with the plain lm_eval CLI and lm-eval-octopack output.
"""

EPILOG = """\
examples:
  lm-eval-octopack report out/ --compare OctoCoder StarCoder
  lm-eval-octopack report out/model/results_2025-01-01T00-00-00.json --markdown report.md --png table.png
  lm-eval-octopack report out/ --output-dir report/      (writes report.md, report.html, report.png)
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lm-eval-octopack report",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("results", nargs="*", metavar="RESULTS", help="results JSON files or output directories")
    parser.add_argument("--samples", nargs="+", default=[], metavar="JSONL", help="extra samples_<task>_<date>.jsonl")
    parser.add_argument(
        "--compare",
        nargs="+",
        action="extend",
        default=[],
        metavar="NAME",
        help="add published rows (pass@1 tables); see --list-published",
    )
    parser.add_argument("--list-published", action="store_true", help="list models with published numbers and exit")
    parser.add_argument("--markdown", type=Path, metavar="OUT.md", help="write a Markdown report")
    parser.add_argument("--html", type=Path, metavar="OUT.html", help="write a standalone HTML report")
    parser.add_argument("--png", type=Path, metavar="OUT.png", help="write a pass@1 heatmap (needs matplotlib)")
    parser.add_argument("--output-dir", type=Path, metavar="DIR", help="write report.md, report.html and report.png")
    parser.add_argument("--quiet", action="store_true", help="do not print the tables to the console")
    return parser


def main_report(argv: list[str]) -> int:
    """Entry point of ``lm-eval-octopack report``; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_published:
        for name, model in published_models().items():
            print(f"{name}: {model.get('source')}")
        return 0
    if not args.results:
        parser.error("give at least one RESULTS file or directory")
    try:
        compare = resolve_names(args.compare)
        report = build_report(args.results, samples=args.samples)
    except (KeyError, FileNotFoundError, ValueError) as error:
        print(f"lm-eval-octopack report: {error}", file=sys.stderr)
        return 2
    if not report.scores and not report.other_results:
        print("lm-eval-octopack report: no results found", file=sys.stderr)
        return 1
    if not args.quiet:
        render_console(report, compare)
    return _write_files(report, compare, args)


def _write_files(report, compare: list[str], args: argparse.Namespace) -> int:  # noqa: ANN001
    markdown, html_path, png = args.markdown, args.html, args.png
    if args.output_dir:
        markdown = markdown or args.output_dir / "report.md"
        html_path = html_path or args.output_dir / "report.html"
        png = png or args.output_dir / "report.png"
    for path, render in [(markdown, render_markdown), (html_path, render_html)]:
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(report, compare))
            print(f"wrote {path}")
    if png:
        try:
            print(f"wrote {render_png(report, png, compare=compare)}")
        except RuntimeError as error:
            print(f"lm-eval-octopack report: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main_report(sys.argv[1:]))
