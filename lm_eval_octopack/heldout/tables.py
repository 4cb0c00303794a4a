"""Flacuna-style Tables 2, 3 and 4 for one lm-eval results JSON, with the paper's published rows.

``render_tables(results_json, fmt="text" | "markdown") -> str``. The run's row is first, marked
``(this run)``; cells the run did not evaluate show ``-``. Scores are percentages with one
decimal. Table 2's HumanEval cell is read from ``humanevalsynthesize-python`` (``pass@1``), and its
Avg is shown only when all five cells are present, as in the paper.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .published import TABLE2, TABLE2_COLUMNS, TABLE3, TABLE3_COLUMNS, TABLE4, TABLE4_COLUMNS, Row

#: (results entry, metric prefix) per column; entries are looked up in "groups" then "results".
TABLE2_SOURCES = (
    ("instructeval_mmlu_5shot", "acc"),
    ("instructeval_bbh_3shot", "acc"),
    ("instructeval_drop_3shot", "acc"),
    ("instructeval_crass_3shot", "acc"),
    ("humanevalsynthesize-python", "pass@1"),
)
TABLE3_SOURCES = (
    ("instructeval_mmlu_0shot", "acc"),
    ("instructeval_bbh_0shot", "acc"),
    ("instructeval_crass_0shot", "acc"),
)
TABLE4_SOURCES = tuple((f"instructeval_hhh_{c}", "acc") for c in ("harmless", "helpful", "honest", "other"))


def metric_value(results_json: Mapping[str, Any], entry: str, metric: str) -> float | None:
    """The entry's ``<metric>,<filter>`` value (any filter) as a percentage, or None."""
    for section in ("groups", "results"):
        scores = (results_json.get(section) or {}).get(entry)
        if not scores:
            continue
        for key, value in scores.items():
            if key.split(",")[0] == metric and isinstance(value, (int, float)):
                return 100.0 * float(value)
    return None


def _mean_if_complete(values: Sequence[float | None]) -> float | None:
    return None if any(v is None for v in values) else sum(values) / len(values)  # type: ignore[arg-type]


def run_rows(results_json: Mapping[str, Any], label: str) -> tuple[Row, Row, Row]:
    table2 = [metric_value(results_json, *source) for source in TABLE2_SOURCES]
    table3 = [metric_value(results_json, *source) for source in TABLE3_SOURCES]
    table4 = [metric_value(results_json, *source) for source in TABLE4_SOURCES]
    return (
        Row(label, "", (*table2, _mean_if_complete(table2))),
        Row(label, "", tuple(table3)),
        Row(label, "", (*table4, _mean_if_complete(table4))),
    )


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _render(title: str, columns: Sequence[str], rows: Sequence[Row], fmt: str) -> str:
    header = ["Model", "Size", *columns]
    body = [[row.model, row.size or "-", *(_cell(v) for v in row.values)] for row in rows]
    if fmt == "markdown":
        lines = [f"**{title}**", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cells) + " |" for cells in body]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([title, line(header), "  ".join("-" * w for w in widths), *(line(c) for c in body)])


def render_tables(results_json: dict, fmt: str = "text") -> str:
    """Tables 2 (problem solving), 3 (0-shot) and 4 (HHH) with this run's row above the paper's rows."""
    if fmt not in ("text", "markdown"):
        raise ValueError(f"fmt must be 'text' or 'markdown', got {fmt!r}")
    label = f"{results_json.get('model_name') or 'model'} (this run)"
    mine2, mine3, mine4 = run_rows(results_json, label)
    tables = [
        _render(
            "Table 2: problem solving (MMLU 5-shot, BBH 3-shot, DROP 3-shot, CRASS 3-shot, HumanEval 0-shot)",
            TABLE2_COLUMNS,
            [mine2, *TABLE2],
            fmt,
        ),
        _render("Table 3: zero-shot problem solving", TABLE3_COLUMNS, [mine3, *TABLE3], fmt),
        _render("Table 4: HHH alignment (Avg = plain mean of the four)", TABLE4_COLUMNS, [mine4, *TABLE4], fmt),
    ]
    return "\n\n".join(tables) + "\n"
