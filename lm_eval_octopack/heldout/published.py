"""Published rows of the Flacuna paper (arXiv 2307.02053), Tables 2-4, as percentages.

Transcribed from the research spec (``heldout.md`` section 9), which cross-checked the OCR with the
declare-lab/flacuna README and INSTRUCTEVAL's result files. ``None`` is a dash in the paper;
values the spec marks uncertain carry a note. Deltas against the foundation model are omitted.
"""

from __future__ import annotations

from typing import NamedTuple


class Row(NamedTuple):
    model: str
    size: str
    values: tuple[float | None, ...]
    note: str = ""


TABLE2_COLUMNS = ("MMLU", "BBH", "DROP*", "CRASS", "HumanEval", "Avg")
TABLE2: tuple[Row, ...] = (
    Row("GPT-4", "-", (86.4, None, 80.9, None, 67.0, None)),
    Row("ChatGPT", "-", (70.0, 49.5, 64.1, 90.5, 48.1, 64.5), "BBH OCR uncertain (leaderboard 49.6)"),
    Row("Flan-UL2", "20B", (55.0, 44.7, 64.3, 94.2, 0.0, 51.6)),
    Row("Alpaca-Lora", "30B", (58.4, 41.3, 45.1, 79.2, 18.9, 48.6)),
    Row("OpenAssistant", "30B", (56.9, 39.2, 46.0, 67.2, 23.1, 46.5)),
    Row("OPT-IML", "30B", (38.6, 31.3, 47.5, 67.2, 9.1, 38.7)),
    Row("Flan-T5", "11B", (54.5, 43.9, 67.2, 88.3, 0.0, 50.8)),
    Row("Flan-Alpaca", "11B", (50.9, 23.3, 62.3, 90.2, 0.0, 45.3)),
    Row("Dolly V2", "12B", (25.6, 29.7, 16.6, 35.8, 8.5, 23.2)),
    Row("Flan-T5", "3B", (49.2, 40.2, 56.3, 91.2, 0.0, 47.4)),
    Row("ChatGLM", "6B", (36.1, 31.3, 44.2, 51.1, 3.1, 33.2)),
    Row("Mosaic-Chat", "7B", (37.1, 32.0, 20.2, 47.5, 17.7, 30.9), "CRASS OCR uncertain (41.5 or 47.5)"),
    Row("StableVicuna", "13B", (49.2, 37.5, 34.3, 67.5, 15.9, 40.9)),
    Row("Vicuna", "13B", (50.6, 37.6, 32.6, 60.9, 11.6, 38.7)),
    Row("Flacuna", "13B", (51.1, 39.3, 43.6, 74.1, 11.0, 43.8)),
)

TABLE3_COLUMNS = ("MMLU 0-shot", "BBH 0-shot", "CRASS 0-shot")
TABLE3: tuple[Row, ...] = (
    Row("Flan-UL2", "20B", (54.4, 34.9, None)),
    Row("OpenAssistant", "30B", (52.0, 33.4, None)),
    Row("OPT-IML", "30B", (41.3, 17.4, None)),
    Row("TK-Instruct", "11B", (39.4, 17.1, None)),
    Row("Flan-T5-XXL", "11B", (54.1, 39.5, None)),
    Row("Dolly V2", "12B", (25.4, 22.3, None)),
    Row("StableVicuna", "13B", (47.5, 18.5, 64.2)),
    Row("Vicuna", "13B", (48.3, 28.3, 65.7)),
    Row("Flacuna", "13B", (49.4, 32.5, 67.9)),
)

TABLE4_COLUMNS = ("Harmless", "Helpful", "Honest", "Other", "Avg")
TABLE4: tuple[Row, ...] = (
    Row("ChatGPT", "-", (90.7, 91.2, 78.1, 86.3, 86.6)),
    Row("Flan-Alpaca", "11B", (74.2, 81.4, 77.4, 83.4, 79.1), "Honest OCR uncertain"),
    Row("Flan-T5", "11B", (75.9, 75.3, 75.1, 79.6, 76.7)),
    Row("Tk-Instruct", "11B", (70.1, 54.8, 62.3, 76.0, 65.8)),
    Row("T5", "11B", (46.4, 54.8, 58.1, 50.7, 52.5)),
    Row("Alpaca", "13B", (49.7, 51.2, 51.8, 45.5, 49.5)),
    Row("LLaMA", "13B", (57.2, 61.0, 57.0, 72.0, 61.8)),
    Row("Dolly V2", "12B", (51.7, 59.9, 47.0, 58.1, 54.2)),
    Row("Pythia", "12B", (41.3, 46.1, 43.6, 49.3, 45.1)),
    Row("StableVicuna", "13B", (61.7, 67.2, 57.1, 79.1, 66.3)),
    Row("Vicuna", "13B", (62.0, 66.1, 52.4, 74.4, 63.7)),
    Row("Flacuna", "13B", (72.4, 71.2, 70.5, 83.7, 74.5)),
)
