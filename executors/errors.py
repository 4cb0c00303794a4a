"""Errors the execution engine raises before anything runs (so a long job never dies halfway)."""

from __future__ import annotations


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or unusable and the user did not opt into unsandboxed execution."""


class ToolchainMissing(RuntimeError):
    """A language's compiler/interpreter or dependency is absent; the message says how to install it."""

    def __init__(self, language: str, message: str):
        super().__init__(message)
        self.language = language


class ExecutionInfrastructureError(RuntimeError):
    """The harness could not execute a program at all (not the program's fault): reported as an `error`
    verdict, which is never stored, so the program runs again next time."""


class CacheDirUnusable(RuntimeError):
    """The cache directory (dependencies, scratch, result store) cannot be created or written."""


class Interrupted(RuntimeError):
    """The run is being stopped (Ctrl-C): no new command may start."""


class UnscoredSamples(RuntimeError):
    """Some samples got an ``error`` verdict (the harness, not the program, failed): no pass@k is computed,
    since counting them as failures would understate the score."""

    def __init__(self, message: str, errors: int, samples: int):
        super().__init__(message)
        self.errors = errors
        self.samples = samples
