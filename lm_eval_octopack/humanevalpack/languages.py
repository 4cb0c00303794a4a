"""The five HumanEvalPack scenarios. The languages are :mod:`lm_eval_octopack.language_facts`
(re-exported here as ``LANGUAGES``)."""

from __future__ import annotations

from lm_eval_octopack.language_facts import LANGUAGES

__all__ = ["LANGUAGES", "SCENARIOS", "check_scenario"]

SCENARIOS: tuple[str, ...] = ("fixtests", "fixdocs", "explaindescribe", "explainsynthesize", "synthesize")


def check_scenario(scenario: str) -> str:
    """Return ``scenario`` unchanged, or raise ``ValueError`` naming the known scenarios."""
    if scenario not in SCENARIOS:
        raise ValueError(f"Unknown HumanEvalPack scenario {scenario!r}; known scenarios: {', '.join(SCENARIOS)}")
    return scenario
