"""The functions HumanEvalPack task YAMLs point at (``!function lm_eval_octopack.humanevalpack.tasks.*``).

Flow per task: :func:`load_docs` materialises each row's prompt (the template is chosen per
run), lm-eval samples ``repeats`` continuations, :class:`ExecutionFilter` post-processes,
assembles and executes all of them in one backend call, and :func:`process_results` turns each
doc's verdicts into pass@k plus a per-sample verdict log (visible with ``--log_samples``).
"""

from __future__ import annotations

import datasets
from lm_eval.api.filter import Filter

from lm_eval_octopack import lm_eval_compat
from lm_eval_octopack.humanevalpack import describe_source
from lm_eval_octopack.humanevalpack.data import load_rows
from lm_eval_octopack.humanevalpack.execution import score_final_codes
from lm_eval_octopack.humanevalpack.metrics import pass_at_ks
from lm_eval_octopack.humanevalpack.options import CHAT_PROMPT, RunOptions
from lm_eval_octopack.humanevalpack.postprocess import final_code, postprocess_description
from lm_eval_octopack.humanevalpack.prompts import build_prompt, chat_messages
from lm_eval_octopack.lm_eval_compat import TextWithVerdict
from lm_eval_octopack.provenance import PROVENANCE_KEY, execution_provenance


def load_docs(language: str, scenario: str, **metadata) -> datasets.DatasetDict:
    """``custom_dataset`` loader. ``metadata`` is lm-eval's merge of ``--model_args`` and
    ``--metadata``; only the keys documented in :mod:`.options` are read."""
    options = RunOptions.from_metadata(metadata)
    rows = load_rows(language, options.data_dir)
    if scenario == "explainsynthesize":
        rows = describe_source.expand_with_descriptions(rows, language, options.describe_samples)
    docs = [_materialise(row, language, scenario, options) for row in rows]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})


def _materialise(row: dict, language: str, scenario: str, options: RunOptions) -> dict:
    doc = dict(row)
    description = row.get("description")
    if options.prompt == CHAT_PROMPT:
        doc["prompt_text"], doc["assistant_prefix"] = chat_messages(row, scenario, language, description=description)
    else:
        doc["prompt_text"] = build_prompt(row, scenario, language, options.prompt, description=description)
        doc["assistant_prefix"] = ""
    doc["reference"] = "\n" + row["test"]
    doc["scenario"] = scenario
    doc["language"] = language
    doc["octopack_options"] = options.to_json()
    return doc


def final_codes_for(doc: dict, continuations: list[str], options: RunOptions) -> list[str]:
    scenario, language = doc["scenario"], doc["language"]
    if options.check_references:
        solution = doc[f"{options.check_references}_solution"]
        return [doc["prompt"] + solution for _ in continuations]
    return [final_code(doc, scenario, language, text, template=options.postprocess_template) for text in continuations]


#: A final program text carrying its verdict through lm-eval's filter pipeline (see ``lm_eval_compat``).
SampleResult = TextWithVerdict


class ExecutionFilter(Filter):
    """Post-process, assemble and execute every sample of every doc in one backend call."""

    def apply(self, resps, docs):  # noqa: ANN001, ANN201 (lm-eval's Filter signature)
        docs = list(docs)
        resps = [list(samples) for samples in resps]
        if not docs:
            return resps
        options = RunOptions.from_doc(docs[0])
        language = docs[0]["language"]
        codes = [final_codes_for(doc, samples, options) for doc, samples in zip(docs, resps, strict=True)]
        verdicts = score_final_codes(docs, language, codes, options)
        record_execution_provenance(language, options)
        return [
            [TextWithVerdict(code, verdict.to_dict()) for code, verdict in zip(doc_codes, doc_verdicts, strict=True)]
            for doc_codes, doc_verdicts in zip(codes, verdicts, strict=True)
        ]


def record_execution_provenance(language: str, options: RunOptions) -> None:
    """Write what scored this task (toolchains, verdict rules, sandbox, backend) into its results config,
    ``configs.<task>.metadata.provenance``; a no-op outside an lm-eval run."""
    task = lm_eval_compat.task_applying_filters()
    if task is not None:
        lm_eval_compat.record_in_task_metadata(task, PROVENANCE_KEY, execution_provenance(language, options.backend))


class DescriptionFilter(Filter):
    """Describe stage: the reference's description post-processing (cut, stop words, remove_code)."""

    def apply(self, resps, docs):  # noqa: ANN001, ANN201
        docs = list(docs)
        if not docs:
            return list(resps)
        template = RunOptions.from_doc(docs[0]).postprocess_template  # one run, one set of options
        return [
            [postprocess_description(doc, doc["language"], text, template=template) for text in samples]
            for doc, samples in zip(docs, resps, strict=True)
        ]


def process_results(doc: dict, results: list) -> dict:
    samples = results[0]
    verdicts = [{"sample": index, **sample.verdict} for index, sample in enumerate(samples)]
    passed = sum(1 for record in verdicts if record["passed"])
    return {**pass_at_ks(len(samples), passed), "verdicts": verdicts}


def process_description_results(doc: dict, results: list) -> dict:
    descriptions = results[0]
    return {"nonempty": sum(1 for text in descriptions if text.strip()) / max(len(descriptions), 1)}
