"""Flacuna-style Tables 2, 3 and 4 for one lm-eval results JSON, with the paper's published rows.

``render_tables(results_json, fmt="text" | "markdown") -> str``. The run's row is first, marked
``(this run)``; cells the run did not evaluate show ``-``. Scores are percentages with one
decimal. Table 2's HumanEval cell is read from ``humanevalsynthesize-python`` (``pass@1``), and its
Avg is shown only when all five cells are present, as in the paper.

A group cell (MMLU, BBH) whose group score is not in the results (its members were run on their own,
or came from separate results files) is aggregated from the member tasks present, as the group YAML
does (``catalogue.scored_group_of``: MMLU micro over items, weighted by ``n-samples``; BBH a plain mean),
and footnoted; with fewer members than the group has, the cell is marked ``†``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lm_eval_octopack.report.load import heldout_group

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


class Marked(float):
    """A cell aggregated from part of its group's members: shown with ``†``."""


def group_size(group: str) -> int | None:
    """Member tasks of a held-out group with a group score, as the catalogue (and its YAML) lists them."""
    from lm_eval_octopack.catalogue import groups

    found = groups().get(group)
    return len(found.members) if found and found.metric else None


def aggregated_from_members(results_json: Mapping[str, Any], group: str, metric: str) -> tuple[float, str] | None:
    """The group's score from its member tasks in ``results``, weighted as the group YAML says (:class:`Marked`
    when not every member is there), with a note; None without members (or, for a ``weight_by_size`` group, without every member's item count)."""
    members, weighted = [], False
    for task in sorted(results_json.get("results") or {}):
        found = heldout_group(task)
        value = metric_value(results_json, task, metric) if found and found[0] == group else None
        if value is not None:
            members.append((task, value))
            weighted = found[1]
    if not members:
        return None
    counts = results_json.get("n-samples") or {}
    weights = [(counts.get(task) or {}).get("effective") for task, _ in members] if weighted else [1] * len(members)
    if not all(isinstance(weight, int) and weight > 0 for weight in weights):
        return None
    value = sum(weight * score for weight, (_, score) in zip(weights, members, strict=True)) / sum(weights)
    expected = group_size(group)
    how = f"micro over {sum(weights)} items (weight_by_size)" if weighted else "plain mean"
    note = f"{group}: no group score in the results; {how} of {len(members)} member tasks"
    if expected and len(members) < expected:
        note += f", of the group's {expected} (†: not the full group)"
        return Marked(value), note
    return value, note


def _mean_if_complete(values: Sequence[float | None]) -> float | None:
    return None if any(v is None for v in values) else sum(values) / len(values)  # type: ignore[arg-type]


def _table_values(results_json: Mapping[str, Any], sources: Sequence[tuple[str, str]]) -> tuple[list, list[str]]:
    """Cell values and the notes of the cells aggregated from member tasks."""
    values, notes = [], []
    for entry, metric in sources:
        value = metric_value(results_json, entry, metric)
        aggregated = None if value is not None else aggregated_from_members(results_json, entry, metric)
        if aggregated:
            value, note = aggregated
            notes.append(note)
        values.append(value)
    return values, notes


def _average(values: Sequence[float | None]) -> float | None:
    average = _mean_if_complete(values)
    return Marked(average) if average is not None and any(isinstance(v, Marked) for v in values) else average


def run_rows(results_json: Mapping[str, Any], label: str) -> tuple[Row, Row, Row]:
    """The run's rows of Tables 2, 3 and 4; :func:`run_notes` explains cells aggregated from members."""
    table2, _ = _table_values(results_json, TABLE2_SOURCES)
    table3, _ = _table_values(results_json, TABLE3_SOURCES)
    table4, _ = _table_values(results_json, TABLE4_SOURCES)
    return (
        Row(label, "", (*table2, _average(table2))),
        Row(label, "", tuple(table3)),
        Row(label, "", (*table4, _average(table4))),
    )


def run_notes(results_json: Mapping[str, Any]) -> list[list[str]]:
    """Per table (2, 3, 4), the notes of the cells aggregated from member tasks."""
    return [_table_values(results_json, sources)[1] for sources in (TABLE2_SOURCES, TABLE3_SOURCES, TABLE4_SOURCES)]


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}{'†' if isinstance(value, Marked) else ''}"


def _render(title: str, columns: Sequence[str], rows: Sequence[Row], fmt: str, notes: Sequence[str] = ()) -> str:
    header = ["Model", "Size", *columns]
    body = [[row.model, row.size or "-", *(_cell(v) for v in row.values)] for row in rows]
    if fmt == "markdown":
        lines = [f"**{title}**", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cells) + " |" for cells in body]
        return "\n".join(lines + (["", *(f"Note: {note}." for note in notes)] if notes else []))
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    notes = [f"Note: {note}." for note in notes]
    return "\n".join([title, line(header), "  ".join("-" * w for w in widths), *(line(c) for c in body), *notes])


def render_tables(results_json: dict, fmt: str = "text") -> str:
    """Tables 2 (problem solving), 3 (0-shot) and 4 (HHH) with this run's row above the paper's rows."""
    if fmt not in ("text", "markdown"):
        raise ValueError(f"fmt must be 'text' or 'markdown', got {fmt!r}")
    label = f"{results_json.get('model_name') or 'model'} (this run)"
    mine2, mine3, mine4 = run_rows(results_json, label)
    notes2, notes3, notes4 = run_notes(results_json)
    tables = [
        _render(
            "Table 2: problem solving (MMLU 5-shot, BBH 3-shot, DROP 3-shot, CRASS 3-shot, HumanEval 0-shot)",
            TABLE2_COLUMNS,
            [mine2, *TABLE2],
            fmt,
            notes2,
        ),
        _render("Table 3: zero-shot problem solving", TABLE3_COLUMNS, [mine3, *TABLE3], fmt, notes3),
        _render("Table 4: HHH alignment (Avg = plain mean of the four)", TABLE4_COLUMNS, [mine4, *TABLE4], fmt, notes4),
    ]
    return "\n\n".join(tables) + "\n"
