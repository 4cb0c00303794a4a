"""Make a plain ``lm_eval`` see our tasks and models, at no cost to programs that never use it.

lm-eval 0.4.13 scans no plugin entry points. The wheel (and an editable install: ``setup.py``
adds it there too) therefore ships a one-line ``.pth`` file that calls :func:`install`, which
puts a finder at the front of ``sys.meta_path``. The finder ignores every import except two
lm-eval modules; once each of those has executed, it runs our registration for it:

* ``lm_eval.models``        -> register our model names (lazy placeholders, nothing imported);
* ``lm_eval.tasks.manager`` -> make ``TaskManager`` search our task directory.

Interpreters that never import lm_eval pay for importing this small module and nothing else, which is
why it keeps its own copy of ``lm_eval_compat.HOOKED_MODULES`` (a test checks that they agree).
"""

from __future__ import annotations

import importlib.abc
import os
import sys

_AFTER_IMPORT = {
    "lm_eval.models": "register_models",
    "lm_eval.tasks.manager": "patch_task_manager",
}
DISABLE_ENV = "LM_EVAL_OCTOPACK_NO_HOOK"


class _RunAfterExec(importlib.abc.Loader):
    def __init__(self, wrapped: importlib.abc.Loader, action: str) -> None:
        self._wrapped = wrapped
        self._action = action

    def create_module(self, spec):  # noqa: ANN001
        return self._wrapped.create_module(spec)

    def exec_module(self, module) -> None:  # noqa: ANN001
        self._wrapped.exec_module(module)
        from lm_eval_octopack import plugin

        getattr(plugin, self._action)()


class _LmEvalFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):  # noqa: ANN001
        action = _AFTER_IMPORT.get(fullname)
        if action is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _RunAfterExec(spec.loader, action)
                return spec
        return None


def install() -> None:
    if os.environ.get(DISABLE_ENV) or any(isinstance(f, _LmEvalFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _LmEvalFinder())
