"""Every user-facing string has a Finnish and a Swedish translation."""

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MESSAGE_CALL = re.compile(r"(?<![\w.])(_|_l|gettext|lazy_gettext|ngettext)\(")


def _tool():
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "i18n" / "tool.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_untranslated_or_uncatalogued_strings():
    assert _tool().problems() == []


def test_every_file_with_messages_belongs_to_a_catalogue_area():
    """A template or module outside every ``babel.cfg`` would escape the check above."""
    from babel.util import pathmatch

    patterns = []
    for cfg in (ROOT / "i18n").glob("*/babel.cfg"):
        for line in cfg.read_text().splitlines():
            if line.startswith("[") and ":" in line:
                method, pattern = line.strip("[]").split(":", 1)
                patterns.append((method.strip(), pattern.strip()))
    orphans = []
    candidates = [*(ROOT / "templates").rglob("*.*"), *(ROOT / "reseller").rglob("*.py"),
                  *(ROOT / "wallet").rglob("*.py"), *(ROOT / "whitelabel").rglob("*.py")]
    for path in candidates:
        relative = path.relative_to(ROOT).as_posix()
        if "migrations" in relative or not MESSAGE_CALL.search(path.read_text(errors="ignore")):
            continue
        if not any(method != "ignore" and pathmatch(pattern, relative)
                   for method, pattern in patterns):
            orphans.append(relative)
    assert orphans == []
