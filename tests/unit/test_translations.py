"""Every user-facing string has a Finnish and a Swedish translation."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _tool():
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "i18n" / "tool.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_untranslated_or_uncatalogued_strings():
    assert _tool().problems() == []
