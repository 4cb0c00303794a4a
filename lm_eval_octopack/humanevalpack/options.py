"""Per-run options for HumanEvalPack tasks.

lm-eval gives filters no access to run metadata, but it hands ``--metadata`` (merged with
``--model_args``) to our dataset loader. The loader therefore resolves the options once and
stores them, as JSON, in every document's ``octopack_options`` field, where the filter and
``process_results`` read them back.

Each option can come from ``--metadata key=value`` or an environment variable:

=================  ======================  ==============================================
metadata key       environment variable    meaning
=================  ======================  ==============================================
prompt             OCTOPACK_PROMPT         prompt template (default ``instruct``; ``chat``
                                           for chat-template mode)
data_dir           OCTOPACK_DATA_DIR       local directory of ``{lang}.jsonl``
backend            OCTOPACK_BACKEND        execution backend (``local``, ``ray``, ...)
workers            OCTOPACK_WORKERS        parallel executions (default: cores)
run_timeout        OCTOPACK_RUN_TIMEOUT    seconds per test run (default: reference's)
compile_timeout    OCTOPACK_COMPILE_TIMEOUT seconds per compile (default: 120)
check_references   (none)                  ``canonical`` or ``buggy``: ignore the model and
                                           score the dataset's own solutions, as the
                                           reference's ``--check_references`` does
describe_samples   OCTOPACK_DESCRIBE_SAMPLES explain-synthesize: describe-stage outputs
=================  ======================  ==============================================
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields

from lm_eval_octopack.executors.types import Limits
from lm_eval_octopack.language_facts import language_facts

#: The run step defaults to the reference's per-language timeout (``LanguageFacts.run_timeout``).
#: The reference applies the same number to compiling; we give compiling its own budget
#: so that a slow compile on a loaded machine cannot turn into a false failure.
DEFAULT_COMPILE_TIMEOUT = 120.0
#: ``--metadata prompt=chat``: chat-template mode (not reference parity), post-processed as ``instruct``.
CHAT_PROMPT = "chat"


@dataclass(frozen=True)
class RunOptions:
    prompt: str = "instruct"
    data_dir: str | None = None
    backend: str | None = None
    workers: int | None = None
    run_timeout: float | None = None
    compile_timeout: float | None = None
    check_references: str | None = None
    describe_samples: object = None  # path, directory, or in-memory lists (Python API)

    @classmethod
    def from_metadata(cls, metadata: dict) -> RunOptions:
        values = {}
        for field in fields(cls):
            env_name = f"OCTOPACK_{field.name.upper()}"
            value = metadata.get(field.name)
            if value is None and field.name != "check_references":
                value = os.environ.get(env_name)
            if value is not None and value != "":
                values[field.name] = value
        if "workers" in values:
            values["workers"] = int(values["workers"])
        for name in ("run_timeout", "compile_timeout"):
            if name in values:
                values[name] = float(values[name])
        if values.get("check_references") not in (None, "canonical", "buggy"):
            raise ValueError("check_references must be 'canonical' or 'buggy'")
        return cls(**values)

    @property
    def postprocess_template(self) -> str:
        """The template whose post-processing applies. Chat mode shows the model the ``instruct``
        wording, so it post-processes as ``instruct``."""
        return "instruct" if self.prompt == CHAT_PROMPT else self.prompt

    def limits(self, language: str) -> Limits:
        return Limits(
            compile_timeout=self.compile_timeout or DEFAULT_COMPILE_TIMEOUT,
            run_timeout=self.run_timeout or language_facts(language).run_timeout,
        )

    def to_json(self) -> str:
        data = asdict(self)
        if not isinstance(data["describe_samples"], (str, type(None))):
            data["describe_samples"] = "<in memory>"
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_doc(cls, doc: dict) -> RunOptions:
        return cls(**json.loads(doc["octopack_options"]))
