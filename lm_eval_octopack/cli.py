"""``lm-eval-octopack``: lm-eval's CLI with our tasks and models, plus a few commands of our own.

    lm-eval-octopack --model vllm --model_args pretrained=... --tasks humanevalfix-python ...
    lm-eval-octopack score --task humanevalfixtests-python --generations gens.json
    lm-eval-octopack report results.json
    lm-eval-octopack compare RUN_A RUN_B [--markdown OUT.md] [--json OUT.json]
    lm-eval-octopack doctor [LANG ...]
    lm-eval-octopack setup [LANG ...]
    lm-eval-octopack selfcheck [--data-dir DIR]

Anything that is not one of our commands goes to lm-eval unchanged (``run``, ``ls``,
``validate`` and the legacy flag-only form), after three things lm-eval does late or not at all:

* ``--confirm_run_unsafe_code`` and the toolchains of the requested languages are checked
  *before* a model is loaded;
* vLLM models get ``--batch_size auto`` unless a batch size is given (lm-eval's CLI default of
  1 sends vLLM one prompt at a time);
* explain-synthesize tasks without ``describe_samples`` first run the describe stage with the
  same model, so that HumanEvalExplain runs in one command.

Failures that are not the model's end in one clear line, not a traceback: an unusable cache directory,
a missing toolchain or sandbox (exit 2), samples the harness could not execute (``error`` verdicts: no
pass@k, exit 3), Ctrl-C (exit 130; finished executions stay in the result store).
"""

from __future__ import annotations

import sys
import time

OUR_COMMANDS = {
    "score": "lm_eval_octopack.humanevalpack.score:main",
    "report": "lm_eval_octopack.report:main_report",
    "compare": "lm_eval_octopack.report.compare:main_compare",
    "doctor": "lm_eval_octopack.doctor:main_doctor",
    "setup": "lm_eval_octopack.doctor:main_setup",
    "selfcheck": "lm_eval_octopack.selfcheck:main_selfcheck",
}
VLLM_MODELS = {"vllm", "octopack-vllm", "vllm-vlm"}
NEEDS_CACHE = {"score", "setup", "selfcheck"}
INTERRUPTED = "interrupted; finished executions are kept in the result store"


class UsageError(SystemExit):
    def __init__(self, message: str) -> None:
        print(f"lm-eval-octopack: error: {message}", file=sys.stderr)
        super().__init__(2)


def _call(target: str, argv: list[str]) -> int:
    import importlib

    module_name, function_name = target.split(":")
    return int(getattr(importlib.import_module(module_name), function_name)(argv) or 0)


def flag_value(argv: list[str], flag: str) -> str | None:
    for index, arg in enumerate(argv):
        if arg == flag and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


def option_value(argv: list[str], long_flag: str, short_flag: str) -> str | None:
    """The last value given as ``--long V``, ``--long=V``, ``-s V`` or ``-sV`` (argparse's forms), else None."""
    value = None
    for index, arg in enumerate(argv):
        if arg in (long_flag, short_flag) and index + 1 < len(argv):
            value = argv[index + 1]
        elif arg.startswith(long_flag + "="):
            value = arg.split("=", 1)[1]
        elif arg.startswith(short_flag) and not arg.startswith("--") and len(arg) > len(short_flag):
            value = arg[len(short_flag) :]
    return value


def model_of(argv: list[str]) -> str | None:
    return option_value(argv, "--model", "-M")


def batch_size_of(argv: list[str]) -> str | None:
    return option_value(argv, "--batch_size", "-b")


def with_vllm_batch_size(argv: list[str]) -> list[str]:
    """vLLM models get ``--batch_size auto`` unless the user gave a batch size (lm-eval's default 1 is slow)."""
    if model_of(argv) in VLLM_MODELS and batch_size_of(argv) is None:
        return [*argv, "--batch_size", "auto"]
    return argv


def requested_tasks(argv: list[str]) -> list[str]:
    value = flag_value(argv, "--tasks")
    if not value:
        return []
    return [name for part in value.split(",") for name in part.split() if name]


def code_languages(task_names: list[str]) -> set[str]:
    """The execution languages a task selection needs (task, group and glob names)."""
    from lm_eval_octopack.catalogue import resolve_tasks, task_languages

    languages = task_languages()
    return set().union(*(languages[task] for task in resolve_tasks(task_names)))


def only_our_tasks(patterns: list[str], argv: list[str]) -> bool:
    """True when every requested name is one of our tasks or groups: lm-eval's built-in task
    index is then not needed. Globs, paths, user include paths and config files keep it."""
    from lm_eval_octopack.plugin import our_task_names

    if not patterns or flag_value(argv, "--include_path") or flag_value(argv, "--config"):
        return False
    return set(patterns) <= our_task_names()


def preflight(argv: list[str]) -> list[str]:
    """Checks and defaults that must happen before lm-eval loads a model."""
    languages = code_languages(requested_tasks(argv))
    if languages and "--confirm_run_unsafe_code" not in argv:
        raise UsageError(
            "HumanEvalPack tasks execute model-written code (sandboxed). Add --confirm_run_unsafe_code to proceed."
        )
    if languages and "--predict_only" not in argv:
        from lm_eval_octopack.doctor import require_toolchains

        require_writable_cache()
        require_toolchains(sorted(languages))
    return with_vllm_batch_size(argv)


def require_writable_cache() -> None:
    from lm_eval_octopack.executors.store import default_cache_dir, ensure_writable_dir

    ensure_writable_dir(default_cache_dir())


def run_lm_eval(argv: list[str]) -> int:
    from lm_eval_octopack import lm_eval_compat, plugin
    from lm_eval_octopack.humanevalpack import explain_stage

    plugin.ensure_registered()
    is_run = bool(argv) and (argv[0] == "run" or argv[0].startswith("-"))
    if is_run:
        argv = preflight(argv)
        explain_stage.install()
        lm_eval_compat.skip_builtin_task_index(only_our_tasks(requested_tasks(argv), argv))
    started = time.time()
    lm_eval_compat.run_cli(argv)
    if is_run and flag_value(argv, "--output_path"):
        from lm_eval_octopack.provenance import write_sidecars_since

        write_sidecars_since(flag_value(argv, "--output_path"), started)
    return 0


def dispatch(argv: list[str]) -> int:
    if argv and argv[0] in OUR_COMMANDS:
        if argv[0] in NEEDS_CACHE:
            require_writable_cache()
        return _call(OUR_COMMANDS[argv[0]], argv[1:])
    return run_lm_eval(argv)


def main(argv: list[str] | None = None) -> int:
    from lm_eval_octopack.executors.errors import (
        CacheDirUnusable,
        SandboxUnavailable,
        ToolchainMissing,
        UnscoredSamples,
    )
    from lm_eval_octopack.heldout.shots import MissingTokenizerError
    from lm_eval_octopack.hub import DataSourceError

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return dispatch(argv)
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    except (CacheDirUnusable, DataSourceError, MissingTokenizerError, SandboxUnavailable, ToolchainMissing) as err:
        print(f"lm-eval-octopack: error: {err}", file=sys.stderr)
        return 2
    except UnscoredSamples as err:
        print(f"lm-eval-octopack: error: {err}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    raise SystemExit(main())
