"""Results reports: the OctoPack paper's Table 2 layout, breakdowns, published comparison rows."""

from lm_eval_octopack.report.breakdown import (
    bug_group_breakdown,
    bug_type_breakdown,
    failure_symptom_breakdown,
    status_breakdown,
)
from lm_eval_octopack.report.cli import main_report
from lm_eval_octopack.report.load import build_report
from lm_eval_octopack.report.model import Report
from lm_eval_octopack.report.render import render_console, render_html, render_markdown, render_png, table_rows

__all__ = [
    "Report",
    "build_report",
    "bug_group_breakdown",
    "bug_type_breakdown",
    "failure_symptom_breakdown",
    "main_report",
    "render_console",
    "render_html",
    "render_markdown",
    "render_png",
    "status_breakdown",
    "table_rows",
]
