"""``octopack-reference``: a self-check model that answers from the dataset itself.

    lm_eval --model octopack-reference --model_args solution=canonical --tasks humanevalpack ...

It answers every HumanEvalPack prompt the way a perfect (``solution=canonical``) or a
bug-echoing (``solution=buggy``) model would, and the answer then goes through the normal
pipeline: lm-eval's ``until`` cut, our post-processing, assembly and execution. Scores on the
real data must match the spec's sanity table (see README, "Self-check").

* code tasks: the continuation is ``"\\n" + <solution>``, the spec's definition of a perfect model;
* describe: the docstring, as a description of the code.
"""

from __future__ import annotations

from lm_eval.api.model import LM

from lm_eval_octopack.humanevalpack.postprocess import cut_at_stop_words

SOLUTIONS = ("canonical", "buggy")


class ReferenceModel(LM):
    def __init__(self, solution: str = "canonical", pretrained: str = "octopack-reference", **_ignored) -> None:
        super().__init__()
        if solution not in SOLUTIONS:
            raise ValueError(f"octopack-reference: solution must be one of {SOLUTIONS}, got {solution!r}")
        self.solution = solution
        self.pretrained = pretrained  # lm-eval names output folders after this model arg

    @classmethod
    def create_from_arg_string(cls, arg_string: str, additional_config: dict | None = None) -> ReferenceModel:
        from lm_eval_octopack.lm_eval_compat import parse_model_args

        return cls(**parse_model_args(arg_string))

    def answer(self, doc: dict) -> str:
        if "scenario" not in doc:
            raise ValueError("octopack-reference only answers HumanEvalPack tasks of lm-eval-octopack")
        if doc["scenario"] == "explaindescribe":
            return doc["docstring"]
        return "\n" + doc[f"{self.solution}_solution"]

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:  # noqa: ANN001
        outputs = []
        for request in requests:
            _, gen_kwargs = request.args
            text = self.answer(request.doc)
            # what a real backend returns: the text up to the first stop string
            outputs.append(cut_at_stop_words(text, gen_kwargs.get("until") or []))
        return outputs

    def loglikelihood(self, requests, disable_tqdm: bool = False):  # noqa: ANN001, ANN201
        raise NotImplementedError("octopack-reference only generates (HumanEvalPack tasks)")

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):  # noqa: ANN001, ANN201
        raise NotImplementedError("octopack-reference only generates (HumanEvalPack tasks)")
