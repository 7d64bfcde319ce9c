"""Where the templates, static files and compiled translations are: inside the installed
package (``reseller/_data``, written by the wheel build, see ``setup.py``) or, in a checkout
and an editable install, at the checkout's top level."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DATA = Path(__file__).resolve().parents[1] / "_data"
CHECKOUT = Path(__file__).resolve().parents[2]


def data_root() -> Path:
    """``reseller/_data`` when the wheel put the templates there, else the checkout."""
    return PACKAGE_DATA if (PACKAGE_DATA / "templates").is_dir() else CHECKOUT


def translation_directories() -> list[Path]:
    """Every catalogue area under ``i18n/`` (flask-babel merges them): in a checkout the
    folders with a ``babel.cfg``, in the wheel the folders with compiled catalogues."""
    root = data_root() / "i18n"
    areas = {path.parent for path in root.glob("*/babel.cfg")}
    areas |= {path.parents[2] for path in root.glob("*/*/LC_MESSAGES/messages.mo")}
    return sorted(areas)
