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
