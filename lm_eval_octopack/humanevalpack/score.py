"""``lm-eval-octopack score``: score saved generations without a model.

    lm-eval-octopack score --task humanevalfixtests-python --generations generations.json \\
        [--data-dir DIR] [--output verdicts.json] [--format auto|final|completion] [--allow-partial]

Accepted files:

* the bigcode harness's generations JSON: a list (one per problem, dataset order) of lists of
  strings. The reference saves *final code* (``prompt_base.rstrip() + post-processed
  continuation``); raw continuations are accepted too (``--format completion``, or detected);
* our own lm-eval samples files (``samples_<task>_<date>.jsonl``): the raw continuations are
  post-processed again with the template recorded in each doc.

A file must cover every problem of the dataset (``--allow-partial`` scores a subset). Exit status: 0 scored,
2 the input or the setup is unusable, 3 some samples got an ``error`` verdict (no pass@k; the verdicts are
still written with ``--output``), 130 interrupted.

This is the parity check with the reference: same generations in, same verdicts out. The
interface is stable.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from lm_eval_octopack.executors.errors import CacheDirUnusable, SandboxUnavailable, ToolchainMissing, UnscoredSamples
from lm_eval_octopack.executors.front import RunSummary
from lm_eval_octopack.humanevalpack.data import DataUnavailableError, load_rows
from lm_eval_octopack.humanevalpack.execution import build_programs, execute, refuse_scoring_errors
from lm_eval_octopack.humanevalpack.metrics import mean_pass_at_ks
from lm_eval_octopack.humanevalpack.options import RunOptions
from lm_eval_octopack.humanevalpack.postprocess import final_code
from lm_eval_octopack.humanevalpack.prompts import prompt_base

FORMATS = ("auto", "final", "completion")


class GenerationsError(ValueError):
    """The generations file cannot be scored as given."""


@dataclass
class ScoreResult:
    task: str
    format: str
    problems: int
    samples: int
    pass_at_k: dict[str, float] | None  # None: some samples are `error`, see ``unscored``
    verdicts: list[dict] = field(default_factory=list)
    unscored: str = ""
    execution: RunSummary | None = None  # what the backend did; not part of the written result

    def to_dict(self) -> dict:
        result = {
            "task": self.task,
            "format": self.format,
            "problems_scored": self.problems,
            "samples": self.samples,
            "pass@k": self.pass_at_k,
            "verdicts": self.verdicts,
        }
        return {**result, "unscored": self.unscored} if self.unscored else result


def parse_task(task: str) -> tuple[str, str]:
    from lm_eval_octopack.catalogue import humanevalpack_tasks

    tasks = humanevalpack_tasks()
    if task not in tasks:
        scored = sorted(name for name, (scenario, _) in tasks.items() if scenario != "explaindescribe")
        raise GenerationsError(f"unknown task {task!r}; one of: {', '.join(scored)}")
    scenario, language = tasks[task]
    if scenario == "explaindescribe":
        raise GenerationsError("humanevalexplaindescribe-* only generates descriptions; score the synthesize stage")
    return scenario, language


def final_code_base(doc: dict, scenario: str, language: str) -> str:
    """What a saved final code starts with: the reference prepends ``prompt_base.rstrip()``
    (explain-synthesize: the docstring prompt)."""
    base = doc["prompt"] if scenario == "explainsynthesize" else prompt_base(doc, scenario, language)
    return base.rstrip()


def detect_format(rows: list[dict], generations: list[list[str]], scenario: str, language: str) -> str:
    verdicts = {
        text.startswith(final_code_base(row, scenario, language))
        for row, texts in zip(rows, generations, strict=True)
        for text in texts
        if text.strip()
    }
    if verdicts == {True}:
        return "final"
    if verdicts == {False}:
        return "completion"
    if not verdicts:
        return "final"
    raise GenerationsError("some generations start with the prompt and some do not: pass --format final|completion")


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise GenerationsError(f"{path} is not valid UTF-8: {err.reason} at byte {err.start}") from None
    except OSError as err:
        raise GenerationsError(f"cannot read {path}: {err.strerror or err}") from None


def read_generations_json(path: Path) -> list[list[str]]:
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as err:
        raise GenerationsError(f"cannot read {path} as JSON: {err}") from None
    if not isinstance(data, list) or not all(isinstance(item, list) for item in data):
        raise GenerationsError(f"{path}: expected a list (one per problem) of lists of strings")
    if not all(isinstance(text, str) for item in data for text in item):
        raise GenerationsError(f"{path}: every generation must be a string")
    return data


def read_samples_jsonl(path: Path, task: str) -> tuple[list[dict], list[list[str]]]:
    rows: dict[int, tuple[dict, list[str]]] = {}
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise GenerationsError(f"{path}:{number}: not JSON: {err}") from None
        if record.get("filter", "execution") != "execution":
            continue
        rows[int(record["doc_id"])] = (record["doc"], [str(text) for text in record["resps"][0]])
    if not rows:
        raise GenerationsError(f"{path}: no samples of {task} found")
    ordered = [rows[i] for i in sorted(rows)]
    return [doc for doc, _ in ordered], [texts for _, texts in ordered]


def check_coverage(covered: int, expected: int, path: Path, allow_partial: bool) -> None:
    """A file must hold every problem of the data: fewer only with ``allow_partial``, more never."""
    if covered > expected:
        raise GenerationsError(f"{covered} problems in {path}, but the data has {expected}")
    if covered < expected and not allow_partial:
        raise GenerationsError(
            f"{path} has {covered} of the data's {expected} problems; pass --allow-partial to score only those"
        )


def check_samples_coverage(docs: list[dict], data_rows: list[dict], path: Path) -> None:
    """Every problem of the data, by task id (explain-synthesize samples hold several docs per problem)."""
    expected, covered = {row["task_id"] for row in data_rows}, {doc["task_id"] for doc in docs}
    if covered - expected:
        raise GenerationsError(f"{path} holds problems the data lacks: {', '.join(sorted(covered - expected)[:5])}")
    check_coverage(len(covered), len(expected), path, allow_partial=False)


def score(
    task: str, generations_path: Path, options: RunOptions, fmt: str = "auto", allow_partial: bool = False
) -> ScoreResult:
    scenario, language = parse_task(task)
    if generations_path.suffix == ".jsonl":
        rows, generations = read_samples_jsonl(generations_path, task)
        if not allow_partial:
            check_samples_coverage(rows, load_rows(language, options.data_dir), generations_path)
        template = json.loads(rows[0]["octopack_options"]).get("prompt", "instruct") if rows else "instruct"
        options = replace(options, prompt=template)
        fmt = "completion"
    else:
        generations = read_generations_json(generations_path)
        rows = load_rows(language, options.data_dir)
        check_coverage(len(generations), len(rows), generations_path, allow_partial)
        rows = rows[: len(generations)]
        fmt = detect_format(rows, generations, scenario, language) if fmt == "auto" else fmt
    if fmt == "completion":
        template = options.postprocess_template
        generations = [
            [final_code(row, scenario, language, text, template=template) for text in texts]
            for row, texts in zip(rows, generations, strict=True)
        ]
    summaries: list[RunSummary] = []
    verdicts = execute(build_programs(rows, language, generations, options), options, on_summary=summaries.append)
    records = [
        {"task_id": row["task_id"], "sample": index, **verdict.to_dict()}
        for row, doc_verdicts in zip(rows, verdicts, strict=True)
        for index, verdict in enumerate(doc_verdicts)
    ]
    counts = [(len(v), sum(x.passed for x in v)) for v in verdicts]
    result = ScoreResult(
        task=task,
        format=fmt,
        problems=sum(1 for n, _ in counts if n),
        samples=len(records),
        pass_at_k=None,
        verdicts=records,
        execution=summaries[0] if summaries else None,
    )
    try:
        refuse_scoring_errors(verdicts)
    except UnscoredSamples as err:
        result.unscored = str(err)
        return result
    result.pass_at_k = mean_pass_at_ks(counts)
    return result


def render(result: ScoreResult) -> str:
    from collections import Counter

    statuses = Counter(record["status"] for record in result.verdicts)
    lines = [f"{result.task}: {result.problems} problems scored, {result.samples} samples ({result.format} format)"]
    lines += [f"  {k:<9} {100 * v:6.2f}" for k, v in (result.pass_at_k or {}).items()]
    lines.append("  status   " + ", ".join(f"{status} {count}" for status, count in statuses.most_common()))
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lm-eval-octopack score", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--task", required=True, help="e.g. humanevalfixtests-python")
    parser.add_argument("--generations", required=True, type=Path, help="generations JSON or samples JSONL")
    parser.add_argument(
        "--data-dir", help="local directory of {lang}.jsonl (default: $OCTOPACK_DATA_DIR, then the Hub)"
    )
    parser.add_argument("--output", type=Path, help="write per-sample verdicts and pass@k as JSON here")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="auto",
        help="final: reference-saved final code; completion: raw continuations; auto: detect",
    )
    parser.add_argument(
        "--allow-partial",
        action="store_true",
        help="score a file that holds only some of the data's problems (default: refuse it)",
    )
    parser.add_argument("--prompt", default="instruct", help="template the completions were generated with")
    parser.add_argument("--backend", help="execution backend (default: local)")
    parser.add_argument("--workers", type=int, help="parallel executions (default: cores)")
    parser.add_argument("--run-timeout", type=float, help="seconds per run (default: the reference's)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    options = RunOptions.from_metadata(
        {
            "data_dir": args.data_dir,
            "prompt": args.prompt,
            "backend": args.backend,
            "workers": args.workers,
            "run_timeout": args.run_timeout,
        }
    )
    try:
        result = score(args.task, args.generations, options, fmt=args.format, allow_partial=args.allow_partial)
    except (
        GenerationsError,
        DataUnavailableError,
        ToolchainMissing,
        SandboxUnavailable,
        CacheDirUnusable,
        OSError,
    ) as err:
        print(f"lm-eval-octopack score: error: {err}", file=sys.stderr)
        return 2
    print(render(result))
    if result.execution is not None and result.execution.timeouts_line():
        print(f"lm-eval-octopack score: {result.execution.timeouts_line()}", file=sys.stderr)
    if args.output:
        args.output.write_text(json.dumps(result.to_dict(), indent=2))
        print(f"verdicts written to {args.output}")
    if result.unscored:
        print(
            f"lm-eval-octopack score: error: {result.unscored} Executed verdicts are stored; a rerun executes only "
            "the missing ones.",
            file=sys.stderr,
        )
        return 3
    return 0
