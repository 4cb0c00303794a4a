"""Build glue that pyproject.toml cannot express.

1. ``task_yaml/`` and ``executors/`` sit at the top of the repository but install inside the
   package, so the package list is computed over the three source roots.
2. lm-eval 0.4.13 has no plugin entry points. We ship ``lm_eval_octopack_hook.pth``, which
   installs a tiny import hook: it does nothing until ``lm_eval`` itself is imported, and then
   registers our tasks and models (see ``lm_eval_octopack/_hook.py``).
"""

from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOTS = {"lm_eval_octopack": "lm_eval_octopack", "lm_eval_octopack.executors": "executors"}
PTH_NAME = "lm_eval_octopack_hook.pth"
PTH_LINE = "import lm_eval_octopack._hook as _h; _h.install()\n"


def _packages() -> list[str]:
    packages = ["lm_eval_octopack.task_yaml"]
    for name, root in ROOTS.items():
        packages.append(name)
        packages += [f"{name}.{sub}" for sub in find_packages(root, exclude=["tests*"])]
    return sorted(set(packages))


class BuildWithHook(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / PTH_NAME
        target.write_text(PTH_LINE)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), str(Path(self.build_lib) / PTH_NAME)]


setup(packages=_packages(), cmdclass={"build_py": BuildWithHook})
