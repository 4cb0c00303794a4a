"""Renderers: rich console, Markdown, HTML and a PNG heatmap, all in the paper's Table 2 layout."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from lm_eval_octopack.report.breakdown import (
    BreakdownRow,
    TimeoutRow,
    bug_group_breakdown,
    bug_type_breakdown,
    failure_symptom_breakdown,
    status_breakdown,
    timeout_breakdown,
)
from lm_eval_octopack.report.model import LANGUAGE_LABELS, LANGUAGES, STATUSES, Cell, Report, TableRow
from lm_eval_octopack.report.published import published_row

HEADER = ["", *(LANGUAGE_LABELS[language] for language in LANGUAGES), "Avg."]
PARTIAL_NOTE = "† Avg. over the languages present (fewer than six)."
LIMITED_TITLE = "PARTIAL RUN (--limit)"
TIMEOUT_TITLE = (
    "Time lost to timeouts (verdict seconds in the samples; identical programs count once; a timeout is re-run "
    "alone by default, about as much again; results the store already had cost nothing in this run)"
)
TIMEOUT_HEADER = ["Task", "Language", "Timeouts", "Programs", "Seconds lost", "Execution seconds", "Share lost"]


def format_cell(cell: Cell) -> str:
    if cell.value is None:
        return "–"
    return f"{cell.value:.1f}{'†' if cell.partial else ''}{'‡' if cell.limited else ''}"


def limited_note(report: Report) -> str | None:
    """Which tasks were scored on a subset of their docs: such numbers are not comparable with published ones."""
    if not report.limited_tasks:
        return None
    counts = [f"{task} ({_docs_text(*docs)})" for task, docs in sorted(report.limited_tasks.items())]
    return (
        "‡ Partial run (lm-eval --limit): scored on a subset of the docs, not comparable with published "
        "numbers: " + ", ".join(counts) + "."
    )


def _docs_text(scored: int | None, total: int | None) -> str:
    if scored is None:
        return "subset"
    return f"{scored} of {total} docs" if total is not None else f"{scored} docs"


def _title(report: Report, metric: str) -> str:
    suffix = f" – {LIMITED_TITLE}" if report.limited_tasks else ""
    return f"{report.model_name}: HumanEvalPack {metric} (%){suffix}"


def table_rows(report: Report, metric: str, compare: list[str] = ()) -> list[TableRow]:
    """Our rows in Table 2 order, each followed by the chosen published rows (pass@1 only)."""
    rows = []
    for scenario in report.scenarios():
        rows.append(report.row(scenario, metric))
        if metric == "pass@1":
            rows.extend(row for name in compare if (row := published_row(name, scenario)) is not None)
    return rows


def _has_partial(rows: list[TableRow]) -> bool:
    return any(cell.partial for row in rows for cell in row.cells)


def _breakdown_sections(report: Report) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) for each breakdown that has data."""
    from lm_eval_octopack.report import intervals

    sections = [(intervals.TITLE, intervals.HEADER, rows)] if (rows := intervals.interval_rows(report)) else []
    if heldout := intervals.heldout_rows(report):
        sections.append((intervals.HELDOUT_TITLE, intervals.HELDOUT_HEADER, heldout))
    for title, rows in [
        ("Fix: pass@1 by bug type", bug_type_breakdown(report)),
        ("Fix: pass@1 by bug-type group (paper: missing / excess / wrong logic)", bug_group_breakdown(report)),
        ("Fix: pass@1 by failure symptom", failure_symptom_breakdown(report)),
    ]:
        if rows:
            sections.append(
                (title, ["Task", "Group", *HEADER[1:-1], "All (docs)"], [_breakdown_cells(r) for r in rows])
            )
    statuses = status_breakdown(report)
    if statuses:
        extra = sorted({s for row in statuses for s in row.counts if s not in STATUSES})
        header = ["Task", "Language", *(s.replace("_", " ") for s in STATUSES + extra), "Samples"]
        body = [
            [
                row.scenario,
                LANGUAGE_LABELS[row.language],
                *(str(row.counts.get(s, 0)) for s in STATUSES + extra),
                str(row.total),
            ]
            for row in statuses
        ]
        sections.append(("Verdict status per language (samples)", header, body))
    if timeouts := timeout_breakdown(report):
        sections.append((TIMEOUT_TITLE, TIMEOUT_HEADER, [_timeout_cells(row) for row in timeouts]))
    return sections


def _timeout_cells(row: TimeoutRow) -> list[str]:
    def seconds(value: float | None) -> str:
        return "not recorded" if value is None else f"{value:.1f}"

    share = "–" if row.share_lost is None else f"{100 * row.share_lost:.0f}%"
    return [
        row.scenario,
        LANGUAGE_LABELS[row.language],
        str(row.timeouts),
        str(row.timed_out_programs),
        seconds(row.seconds_lost),
        seconds(row.seconds_total),
        share,
    ]


def _provenance_parts(report: Report) -> tuple[list[tuple[str, list[str], list[list[str]]]], list[str]]:
    from lm_eval_octopack.report.provenance_block import difference_notes, provenance_sections

    return provenance_sections(report), difference_notes(report)


def _breakdown_cells(row: BreakdownRow) -> list[str]:
    cells = [f"{row.by_language[lang][1]:.1f}" if lang in row.by_language else "–" for lang in LANGUAGES]
    docs, value = row.overall()
    return [row.scenario, row.key, *cells, f"{value:.1f} ({docs})"]


def _heldout(report: Report, fmt: str) -> str | None:
    results = report.heldout_results()
    if not results:
        return None
    from lm_eval_octopack.heldout.tables import render_tables

    return render_tables(heldout_layout(report), "markdown" if fmt == "markdown" else "text")


def heldout_layout(report: Report) -> dict[str, Any]:
    """lm-eval's results layout for the held-out tables: task and group scores by name, item counts (a group
    aggregated from its members weights by them) and Table 2's HumanEval cell, humanevalsynthesize-python."""
    results = report.heldout_results()
    counts = {task: len(next(iter(items.values()), [])) for task, items in report.heldout_items.items()}
    counts = {task: count for task, count in {**report.item_counts, **counts}.items() if count}
    humaneval = report.task_score("HumanEvalSynthesize", "python", "pass@1")
    if humaneval is not None:
        results = {**results, humaneval.task: {"pass@1,execution": humaneval.metrics["pass@1"]}}
    n_samples = {task: {"effective": count} for task, count in counts.items()}
    limited = any(task in report.limited_tasks for task in results)  # never beside published rows unlabelled
    name = f"{report.model_name}, {LIMITED_TITLE}" if limited else report.model_name
    return {"results": results, "groups": results, "n-samples": n_samples, "model_name": name}


# --------------------------------------------------------------------------- console


def _rich_table(title: str, header: list[str], body: list[list[str]]) -> Any:
    from rich.table import Table

    table = Table(title=title)
    for name in header:
        table.add_column(name)
    for line in body:
        table.add_row(*line)
    return table


def render_console(report: Report, compare: list[str] = (), console: Any = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    for metric in report.metrics() or ["pass@1"]:
        rows = table_rows(report, metric, compare)
        table = Table(title=_title(report, metric))
        for index, name in enumerate(HEADER):
            table.add_column(name, justify="left" if index == 0 else "right")
        for row in rows:
            style = "dim" if row.published else None
            table.add_row(row.label, *(format_cell(cell) for cell in row.cells), style=style)
        console.print(table)
        if _has_partial(rows):
            console.print(PARTIAL_NOTE)
    if limited_note(report):
        console.print(limited_note(report), style="bold yellow", markup=False)
    for title, header, body in _breakdown_sections(report):
        console.print(_rich_table(title, header, body))
    if report.generation_only:
        console.print(f"Generation only (no score): {', '.join(sorted(report.generation_only))}")
    heldout = _heldout(report, "console")
    if heldout:
        console.print(heldout)
    sections, notes = _provenance_parts(report)
    for title, header, body in sections:
        console.print(_rich_table(title, header, body))
    for note in notes:
        console.print(note, markup=False, highlight=False)


# --------------------------------------------------------------------------- markdown


def _md_table(header: list[str], body: list[list[str]]) -> str:
    align = ["---"] + ["---:"] * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |" for line in body]
    return "\n".join(lines)


def render_markdown(report: Report, compare: list[str] = ()) -> str:
    parts = [f"# HumanEvalPack results: {report.model_name}"]
    if limited_note(report):
        parts.append(f"**{LIMITED_TITLE}.** {limited_note(report)}")
    sources = []
    for metric in report.metrics() or ["pass@1"]:
        rows = table_rows(report, metric, compare)
        body = [[row.label, *(format_cell(cell) for cell in row.cells)] for row in rows]
        parts.append(f"## {metric} (%)\n\n" + _md_table(HEADER, body))
        if _has_partial(rows):
            parts.append(PARTIAL_NOTE)
        sources += [f"- {row.label}: {row.source}" for row in rows if row.published and row.source]
    for title, header, body in _breakdown_sections(report):
        parts.append(f"## {title}\n\n" + _md_table(header, body))
    if report.generation_only:
        parts.append("Generation only (no score): " + ", ".join(sorted(report.generation_only)))
    heldout = _heldout(report, "markdown")
    if heldout:
        parts.append(heldout)
    if sources:
        parts.append("Sources of published rows:\n\n" + "\n".join(dict.fromkeys(sources)))
    sections, notes = _provenance_parts(report)
    parts += [f"## {title}\n\n" + _md_table(header, body) for title, header, body in sections]
    parts += notes
    return "\n\n".join(parts) + "\n"


# --------------------------------------------------------------------------- html

_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
    "th,td{border:1px solid #ccc;padding:4px 10px;text-align:right}th:first-child,td:first-child{text-align:left}"
    "tr.published td{color:#666;font-style:italic}p.limited{color:#a40}caption{font-weight:bold;text-align:left;padding:4px 0}"
)


def _html_table(caption: str, header: list[str], body: list[list[str]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{html.escape(name)}</th>" for name in header)
    lines = []
    for index, line in enumerate(body):
        css = f' class="{classes[index]}"' if classes and classes[index] else ""
        lines.append(f"<tr{css}>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in line) + "</tr>")
    return f"<table><caption>{html.escape(caption)}</caption><tr>{head}</tr>{''.join(lines)}</table>"


def render_html(report: Report, compare: list[str] = ()) -> str:
    title = f"HumanEvalPack results: {report.model_name}"
    parts = [f"<h1>{html.escape(title)}</h1>"]
    if limited_note(report):
        parts.append(f"<p class='limited'><strong>{LIMITED_TITLE}.</strong> {html.escape(limited_note(report))}</p>")
    for metric in report.metrics() or ["pass@1"]:
        rows = table_rows(report, metric, compare)
        body = [[row.label, *(format_cell(cell) for cell in row.cells)] for row in rows]
        classes = ["published" if row.published else "" for row in rows]
        parts.append(_html_table(f"{metric} (%)", HEADER, body, classes))
        if _has_partial(rows):
            parts.append(f"<p>{html.escape(PARTIAL_NOTE)}</p>")
    for caption, header, body in _breakdown_sections(report):
        parts.append(_html_table(caption, header, body))
    heldout = _heldout(report, "html")
    if heldout:
        parts.append(f"<pre>{html.escape(heldout)}</pre>")
    sections, notes = _provenance_parts(report)
    parts += [_html_table(caption, header, body) for caption, header, body in sections]
    parts += [f"<p>{html.escape(note)}</p>" for note in notes]
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body>{''.join(parts)}</body></html>\n"
    )


# --------------------------------------------------------------------------- png


def render_png(report: Report, path: str | Path, metric: str = "pass@1", compare: list[str] = ()) -> Path:
    """Heatmap of the Table 2 grid. Needs matplotlib (``pip install 'lm-eval-octopack[report]'``)."""
    try:
        import matplotlib
    except ImportError as error:
        raise RuntimeError("PNG output needs matplotlib: pip install 'lm-eval-octopack[report]'") from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rows = table_rows(report, metric, compare)
    grid = np.array([[np.nan if c.value is None else c.value for c in row.cells] for row in rows], dtype=float)
    figure, axes = plt.subplots(figsize=(1.2 * len(HEADER) + 2, 0.6 * len(rows) + 1.6))
    image = axes.imshow(np.ma.masked_invalid(grid), cmap="viridis", vmin=0, vmax=100, aspect="auto")
    axes.set_xticks(range(len(HEADER) - 1), HEADER[1:])
    axes.set_yticks(range(len(rows)), [row.label for row in rows])
    for (y, x), value in np.ndenumerate(grid):
        text = "–" if np.isnan(value) else format_cell(rows[y].cells[x])
        color = "black" if not np.isnan(value) and value > 60 else "white"
        axes.text(x, y, text, ha="center", va="center", color=color if not np.isnan(value) else "black", fontsize=9)
    axes.set_title(_title(report, metric))
    figure.colorbar(image, ax=axes, fraction=0.03)
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
