"""The wheel's build step: carry the checkout's ``templates/`` and ``static/`` into the
package as ``reseller/_data`` and compile the ``i18n/`` catalogues there, so an installed
Tunnus runs from any directory (``reseller/core/resources.py`` finds them). The metadata
is in pyproject.toml; an editable install reads the checkout itself and skips this."""

from __future__ import annotations

import runpy
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "reseller" / "_data"
        shutil.rmtree(target, ignore_errors=True)  # no stale file from an earlier build
        for folder in ("templates", "static"):
            if (ROOT / folder).is_dir():
                shutil.copytree(ROOT / folder, target / folder,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        tool = runpy.run_path(str(ROOT / "i18n" / "tool.py"), run_name="i18n_tool")
        tool["compile_all"](target / "i18n")


setup(cmdclass={"build_py": BuildWithData})
