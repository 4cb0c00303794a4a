"""Name -> implementation lookups for languages and execution backends.

Languages are modules ``executors/languages/<name>.py`` exposing ``LANGUAGE``. Backends are the built-ins of
``BUILTIN_BACKENDS`` (the one place they are registered), anything registered with ``register_backend``, and
third-party classes advertised in the entry-point group ``lm_eval_octopack.backends``
(``name = "package.module:Class"``). A backend is one module: a subclass of ``front.Backend`` that implements
``execute`` (the front adds dedup, the store, preparation, progress and timeout re-runs), or any class with
``run(programs) -> list[Verdict]``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
from typing import Any, Protocol

from .runtime.language import Language
from .types import LANGUAGES, Program, Verdict

ENTRY_POINT_GROUP = "lm_eval_octopack.backends"
BUILTIN_BACKENDS = {"local": ".backends.local:LocalBackend", "ray": ".backends.ray:RayBackend"}


class RunsPrograms(Protocol):
    def run(self, programs: list[Program]) -> list[Verdict]: ...


_registered: dict[str, Any] = {}
_languages: dict[str, Language] = {}


def get_language(name: str) -> Language:
    """The ``LANGUAGE`` object of ``executors/languages/<name>.py``; ValueError for unknown names."""
    if name in _languages:
        return _languages[name]
    if name not in LANGUAGES:
        known = ", ".join(sorted(set(LANGUAGES) | set(_languages)))
        raise ValueError(f"unknown language {name!r}; known languages: {known}")
    try:
        module = importlib.import_module(f".languages.{name}", package=__package__)
    except ModuleNotFoundError as e:
        if e.name and e.name.endswith(f"languages.{name}"):
            raise ValueError(f"language {name!r} has no module executors/languages/{name}.py yet") from e
        raise
    language = module.LANGUAGE
    _languages[name] = language
    return language


def register_language(language: Language) -> None:
    """Use ``language`` for ``language.name`` (overrides the module of the same name; adds new names)."""
    if not isinstance(language, Language):  # the backend reads batch_size and the other defaults of the base class
        raise TypeError(f"register_language needs an instance of a Language subclass, not {type(language).__name__}")
    _languages[language.name] = language


def unregister_language(name: str) -> None:
    """Forget an override or a loaded module, so the next ``get_language(name)`` imports it again."""
    _languages.pop(name, None)


def register_backend(name: str, cls: Any) -> None:
    """Make ``get_backend(name)`` construct ``cls(**options)``."""
    _registered[name] = cls


def backend_names() -> list[str]:
    names = set(BUILTIN_BACKENDS) | set(_registered)
    names |= {ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    return sorted(names)


def get_backend(name: str | None = None, **options: Any) -> RunsPrograms:
    """Construct a backend by name (default ``$OCTOPACK_BACKEND`` or "local")."""
    name = name or os.environ.get("OCTOPACK_BACKEND") or "local"
    return _backend_class(name)(**options)


def _backend_class(name: str) -> Any:
    if name in _registered:
        return _registered[name]
    if name in BUILTIN_BACKENDS:
        module_name, attribute = BUILTIN_BACKENDS[name].split(":")
        return getattr(importlib.import_module(module_name, package=__package__), attribute)
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name == name:
            return entry_point.load()
    raise ValueError(f"unknown execution backend {name!r}; known backends: {', '.join(backend_names())}")
