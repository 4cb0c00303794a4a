"""MMLU as INSTRUCTEVAL runs it: Hendrycks CSVs read with pandas, first k dev rows as shots,
generation of 2 tokens scored by prefix match, micro average over the 14,042 test questions.

Data: local only (the original ``data.tar`` is not on the Hub); see :mod:`.sources`.
Cells are rendered with ``"{}".format`` after ``pd.read_csv(header=None)``, like the reference;
with pandas >= 2 the option text ``None`` therefore reads ``nan`` (10 test items).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets

from .docsets import as_dataset_dict, option
from .prompts import mmlu_block, mmlu_header
from .shots import FitsCheck, fit_shots, fits_check
from .sources import InstructEvalDataError, local_dir, missing_data_message, require_file

SUITE = "mmlu"
MMLU_SUBJECTS: tuple[str, ...] = (
    "abstract_algebra",
    "anatomy",
    "astronomy",
    "business_ethics",
    "clinical_knowledge",
    "college_biology",
    "college_chemistry",
    "college_computer_science",
    "college_mathematics",
    "college_medicine",
    "college_physics",
    "computer_security",
    "conceptual_physics",
    "econometrics",
    "electrical_engineering",
    "elementary_mathematics",
    "formal_logic",
    "global_facts",
    "high_school_biology",
    "high_school_chemistry",
    "high_school_computer_science",
    "high_school_european_history",
    "high_school_geography",
    "high_school_government_and_politics",
    "high_school_macroeconomics",
    "high_school_mathematics",
    "high_school_microeconomics",
    "high_school_physics",
    "high_school_psychology",
    "high_school_statistics",
    "high_school_us_history",
    "high_school_world_history",
    "human_aging",
    "human_sexuality",
    "international_law",
    "jurisprudence",
    "logical_fallacies",
    "machine_learning",
    "management",
    "marketing",
    "medical_genetics",
    "miscellaneous",
    "moral_disputes",
    "moral_scenarios",
    "nutrition",
    "philosophy",
    "prehistory",
    "professional_accounting",
    "professional_law",
    "professional_medicine",
    "professional_psychology",
    "public_relations",
    "security_studies",
    "sociology",
    "us_foreign_policy",
    "virology",
    "world_religions",
)

MmluRow = tuple[str, list[str], str]  # question, options, answer letter


def read_rows(path: Path) -> list[MmluRow]:
    import pandas as pd

    frame = pd.read_csv(path, header=None)
    rows = []
    for values in frame.itertuples(index=False):
        cells = [f"{value}" for value in values]
        rows.append((cells[0], cells[1:-1], cells[-1]))
    return rows


def subject_rows(data_dir: Path, subject: str, split: str) -> list[MmluRow]:
    return read_rows(require_file(SUITE, data_dir / split / f"{subject}_{split}.csv"))


def build_docs(
    subject: str, dev: list[MmluRow], test: list[MmluRow], ntrain: int, fits: FitsCheck | None
) -> list[dict]:
    header = mmlu_header(subject)
    shots = [mmlu_block(q, opts, ans) for q, opts, ans in dev[:ntrain]]
    docs = []
    for question, options, answer in test:
        prompt, k = fit_shots(header, shots, mmlu_block(question, options), fits)
        docs.append({"prompt": prompt, "label": answer, "subject": subject, "n_shots": k})
    return docs


def data_dir(metadata: dict[str, Any]) -> Path:
    found = local_dir(SUITE, metadata)
    if found is None:
        raise InstructEvalDataError(missing_data_message(SUITE, "MMLU has no Hub fallback"))
    return found


def load(**kwargs: Any) -> datasets.DatasetDict:
    """``custom_dataset`` for one subject; ``dataset_kwargs``: ``instructeval_subject``, ``instructeval_shots``."""
    subject = option(kwargs, "instructeval_subject")
    ntrain = int(option(kwargs, "instructeval_shots"))
    root = data_dir(kwargs)
    dev = subject_rows(root, subject, "dev") if ntrain else []
    docs = build_docs(subject, dev, subject_rows(root, subject, "test"), ntrain, fits_check(kwargs))
    return as_dataset_dict(docs)
