"""Explain, stage 2: build the explain-synthesize docs from the describe stage's outputs.

As the reference does, every description is used: 164 x n rows in problem-major order, each
sampled once. Accepted sources (``--metadata describe_samples=...``):

* an lm-eval samples file of ``humanevalexplaindescribe-{lang}`` (``--log_samples`` output);
* a directory: the newest such samples file for the language, searched recursively;
* a JSON file in the reference harness's format: a list (one per problem) of lists of descriptions;
* in memory (Python API): the same list of lists, or ``{language: list of lists}``.
"""

from __future__ import annotations

import json
from pathlib import Path

DESCRIBE_FILTER = "description"


class DescriptionsError(ValueError):
    pass


def expand_with_descriptions(rows: list[dict], language: str, source: object) -> list[dict]:
    """Rows for the problems that have descriptions (all 164 unless stage 1 ran with --limit)."""
    descriptions = load_descriptions(source, language)
    unknown = sorted(set(descriptions) - set(range(len(rows))))
    if unknown:
        raise DescriptionsError(f"describe outputs name problems {unknown[:5]} that the {language} data lacks")
    return [
        {**rows[doc_id], "description": text, "description_index": index}
        for doc_id in sorted(descriptions)
        for index, text in enumerate(descriptions[doc_id])
    ]


def load_descriptions(source: object, language: str) -> dict[int, list[str]]:
    """Descriptions per problem index (doc_id of the describe stage)."""
    task = f"humanevalexplaindescribe-{language}"
    if source is None:
        raise DescriptionsError(
            f"humanevalexplainsynthesize-{language} synthesizes code from the model's own descriptions. "
            f"Run {task} first with --log_samples --output_path OUT, then pass "
            f"--metadata describe_samples=OUT (a directory or the samples_{task}_*.jsonl file). "
            "Or let `lm-eval-octopack` run both stages in one command (see README, 'Explain')."
        )
    if isinstance(source, dict):
        source = source.get(language)
        if source is None:
            raise DescriptionsError(f"no describe outputs given for language {language!r}")
    if isinstance(source, list):
        return _validated(source, "in-memory descriptions")
    path = Path(str(source)).expanduser()
    if path.is_dir():
        path = newest_samples_file(path, task)
    if not path.is_file():
        raise DescriptionsError(f"describe_samples: {path} does not exist")
    if path.suffix == ".jsonl":
        return _from_samples_file(path)
    try:
        return _validated(json.loads(path.read_text(encoding="utf-8")), str(path))
    except json.JSONDecodeError as err:
        raise DescriptionsError(f"{path} is neither a samples .jsonl nor a JSON list of lists: {err}") from None


def newest_samples_file(directory: Path, task: str) -> Path:
    candidates = sorted(directory.rglob(f"samples_{task}_*.jsonl"), key=lambda p: p.stem.rsplit("_", 1)[-1])
    if not candidates:
        raise DescriptionsError(f"no samples_{task}_*.jsonl under {directory}")
    return candidates[-1]


def _from_samples_file(path: Path) -> dict[int, list[str]]:
    by_doc: dict[int, list[str]] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            record = json.loads(line)
            if record.get("filter") != DESCRIBE_FILTER:
                continue
            by_doc[int(record["doc_id"])] = [str(text) for text in record["filtered_resps"][0]]
    if not by_doc:
        raise DescriptionsError(f"{path} has no '{DESCRIBE_FILTER}' records: is it a describe-stage samples file?")
    return by_doc


def _validated(data: object, where: str) -> dict[int, list[str]]:
    if not isinstance(data, list) or not all(isinstance(item, list) for item in data):
        raise DescriptionsError(f"{where}: expected a list (one per problem) of lists of strings")
    return {index: [str(text) for text in texts] for index, texts in enumerate(data) if texts}
