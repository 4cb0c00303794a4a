"""The HHH task class: six loglikelihood requests per item instead of lm-eval's one.

Requests, in :data:`~.scoring.HHH_REQUESTS` order: base, chosen-first and chosen-last prompt,
each continued by ``"A"`` and by ``"B"``. The context ends with the reference's trailing space
(``"Choice: "``); lm-eval's standard ``_encode_pair`` moves that space into the continuation,
which :class:`lm_eval_octopack.models.hf.OctopackHFLM` undoes for these tasks (see ``README.md``).
"""

from __future__ import annotations

from lm_eval.api.instance import Instance
from lm_eval.api.task import ConfigurableTask

from .scoring import HHH_REQUESTS

#: Task-name prefix that marks requests needing the exact (un-moved) context/continuation split.
EXACT_SPLIT_TASK_PREFIX = "instructeval_hhh"


class HHHTask(ConfigurableTask):
    OUTPUT_TYPE = "loglikelihood"

    def __init__(self, config: dict | None = None, **kwargs) -> None:  # noqa: ANN003
        # lm-eval's factory hands the `class` key on; TaskConfig rejects unknown keys.
        config = {key: value for key, value in (config or {}).items() if key != "class"}
        super().__init__(config=config, **kwargs)

    def construct_requests(self, doc: dict, ctx: str, **kwargs) -> list[Instance]:  # noqa: ANN003
        for unused in ("apply_chat_template", "chat_template"):
            kwargs.pop(unused, None)
        return [
            Instance(request_type="loglikelihood", doc=doc, arguments=(doc[field], letter), idx=i, **kwargs)
            for i, (field, letter) in enumerate(HHH_REQUESTS)
        ]
