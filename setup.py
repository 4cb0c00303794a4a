"""Build glue that pyproject.toml cannot express.

1. ``task_yaml/`` and ``executors/`` sit at the top of the repository but install inside the
   package, so the package list is computed over the three source roots.
2. Every folder under the source roots is a package and every file in it that is not a module
   ships as its package data (the ``*_support`` folders of ``executors/languages``, the task
   YAMLs, the mini dataset, ...), except what :data:`EXCLUDED_DIRS` and
   :data:`EXCLUDED_SUFFIXES` name. A new file therefore ships without anyone listing it, and
   ``tests/test_packaging.py`` checks the wheel against the tree.
3. lm-eval 0.4.13 has no plugin entry points. We ship ``lm_eval_octopack_hook.pth``, which
   installs a tiny import hook: it does nothing until ``lm_eval`` itself is imported, and then
   registers our tasks and models (see ``lm_eval_octopack/_hook.py``). Wheels get it from
   ``build_py``; editable installs (``pip install -e .``) from ``editable_wheel``, whose wheel
   otherwise holds only setuptools' own path finder.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

HERE = Path(__file__).resolve().parent
#: package name -> source directory (relative to this file)
ROOTS = {
    "lm_eval_octopack": "lm_eval_octopack",
    "lm_eval_octopack.executors": "executors",
    "lm_eval_octopack.task_yaml": "task_yaml",
}
#: Never shipped: bytecode and tool caches that a working tree accumulates.
EXCLUDED_DIRS = frozenset({"__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"})
#: Never shipped: bytecode, editor swap and backup files.
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".swp", "~")
PTH_NAME = "lm_eval_octopack_hook.pth"
# One line, as .pth files need. An interpreter may see site-packages without the package itself (our sandbox
# binds an editable install's .venv but not the checkout it points to): then the hook quietly does nothing.
PTH_LINE = (
    'import sys; exec("try:\\n import lm_eval_octopack._hook as _h\\nexcept ImportError:\\n pass\\n'
    'else:\\n _h.install()")\n'
)


def package_dirs() -> dict[str, Path]:
    """Every folder under the source roots is a package (data-only folders such as ``java_support``
    are namespace packages: setuptools then ships their files as their own package data)."""
    dirs = {}
    for name, root in ROOTS.items():
        dirs[name] = Path(root)
        for sub in find_namespace_packages(str(HERE / root)):
            if not EXCLUDED_DIRS & set(sub.split(".")):
                dirs[f"{name}.{sub}"] = Path(root, *sub.split("."))
    return dirs


def shipped_file(path: Path) -> bool:
    return not (EXCLUDED_DIRS & set(path.parts) or path.name.endswith(EXCLUDED_SUFFIXES))


def package_data(dirs: dict[str, Path]) -> dict[str, list[str]]:
    """Every file that is not a module, as package data of the package of its folder."""
    data = {}
    for name, directory in dirs.items():
        files = [
            path.name
            for path in sorted((HERE / directory).iterdir())
            if path.is_file() and path.suffix != ".py" and shipped_file(path.relative_to(HERE))
        ]
        if files:
            data[name] = files
    return data


class BuildWithHook(build_py):
    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            Path(self.build_lib, PTH_NAME).write_text(PTH_LINE)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        return outputs if self.editable_mode else [*outputs, str(Path(self.build_lib) / PTH_NAME)]


class EditableWithHook(editable_wheel):
    """The editable wheel keeps only what setuptools' editable strategy puts in it, never build_py's
    extra files, so the hook .pth is added to the finished wheel (its RECORD updated)."""

    def run(self) -> None:
        super().run()
        project = self.distribution.get_name().replace("-", "_")
        for wheel in Path(self.dist_dir).glob(f"{project}-*.editable-*.whl"):
            add_to_wheel(wheel, PTH_NAME, PTH_LINE.encode())


def add_to_wheel(wheel: Path, name: str, content: bytes) -> None:
    """Rewrite ``wheel`` with one more top-level file, listed in its RECORD."""
    with zipfile.ZipFile(wheel) as old:
        entries = {info.filename: (info, old.read(info)) for info in old.infolist() if info.filename != name}
    record_info, record = entries.pop(next(path for path in entries if path.endswith(".dist-info/RECORD")))
    digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
    added = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    added.external_attr = 0o644 << 16
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as new:
        for info, data in entries.values():
            new.writestr(info, data)
        new.writestr(added, content)
        new.writestr(record_info, record + f"{name},sha256={digest},{len(content)}\n".encode())


_PACKAGE_DIRS = package_dirs()
setup(
    packages=sorted(_PACKAGE_DIRS),
    package_data=package_data(_PACKAGE_DIRS),
    cmdclass={"build_py": BuildWithHook, "editable_wheel": EditableWithHook},
)
