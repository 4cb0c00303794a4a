"""The plain ``lm_eval`` command line that install-path tests run: our tasks through the import hook only."""

from __future__ import annotations

from pathlib import Path


def selfcheck_argv(lm_eval: Path, tasks: list[str], output: Path, *extra: str) -> list[str]:
    """``lm_eval`` scoring the first 2 problems of ``tasks`` with the self-check model's canonical solutions."""
    return [
        str(lm_eval),
        "--model",
        "octopack-reference",
        "--model_args",
        "pretrained=selfcheck,solution=canonical",
        "--tasks",
        ",".join(tasks),
        "--limit",
        "2",
        "--confirm_run_unsafe_code",
        "--output_path",
        str(output),
        *extra,
    ]
