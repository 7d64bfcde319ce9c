"""Catalogue tooling. Each area under ``i18n/`` (a folder with a ``babel.cfg``) owns the
messages of the files its config names, so packages translate independently.

    python i18n/tool.py extract AREA   # refresh AREA's .pot and its fi/sv/en .po files
    python i18n/tool.py compile        # build every .mo (make run / make test do this;
                                       # the wheel build compiles into the package, setup.py)
    python i18n/tool.py check          # list untranslated or stale messages; exit 1 if any
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
LANGUAGES = ("fi", "sv", "en")
KEYWORDS = ["-k", "_l", "-k", "lazy_gettext", "-k", "ngettext:1,2", "-k", "lazy_ngettext:1,2"]


def areas() -> list[Path]:
    return sorted(path.parent for path in ROOT.glob("*/babel.cfg"))


def _pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True,
                   cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _extract_to(area: Path, target: Path) -> None:
    _pybabel("extract", "-F", str(area / "babel.cfg"), *KEYWORDS, "-o", str(target),
             "--no-location", "--sort-output", "--omit-header", ".")


def extract(name: str) -> None:
    area = ROOT / name
    pot = area / "messages.pot"
    _extract_to(area, pot)
    for language in LANGUAGES:
        po = area / language / "LC_MESSAGES" / "messages.po"
        if po.exists():
            _pybabel("update", "-i", str(pot), "-o", str(po), "-l", language,
                     "--no-fuzzy-matching", "--ignore-obsolete", "--omit-header")
        else:
            _pybabel("init", "-i", str(pot), "-o", str(po), "-l", language)
            _clear_header_fuzzy(po, language)


def _clear_header_fuzzy(po: Path, language: str) -> None:
    """``init`` marks the new catalogue fuzzy, which makes ``compile`` skip it."""
    from babel.messages.pofile import write_po

    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    catalog.fuzzy = False
    catalog.project = "Tunnus"
    with po.open("wb") as handle:
        write_po(handle, catalog, width=100)


def compile_all(target: Path | None = None) -> None:
    """Build every .mo, next to its .po or (the wheel build) under ``target`` in the same
    ``AREA/LANG/LC_MESSAGES`` layout. A catalogue header left "fuzzy" by ``init`` is ignored
    (entries marked fuzzy still are not used)."""
    from babel.messages.mofile import write_mo

    for area in areas():
        for language in LANGUAGES:
            po = area / language / "LC_MESSAGES" / "messages.po"
            if not po.exists():
                continue
            with po.open("rb") as handle:
                catalog = read_po(handle, locale=language)
            catalog.fuzzy = False
            mo = po.with_suffix(".mo") if target is None else (
                target / po.relative_to(ROOT).with_suffix(".mo"))
            mo.parent.mkdir(parents=True, exist_ok=True)
            with mo.open("wb") as handle:
                write_mo(handle, catalog, use_fuzzy=False)


def _translated(language: str) -> dict[str, object]:
    """Every translation of ``language`` across all areas (flask-babel merges them too)."""
    merged: dict[str, object] = {}
    for area in areas():
        po = area / language / "LC_MESSAGES" / "messages.po"
        if po.exists():
            with po.open("rb") as handle:
                for message in read_po(handle):
                    if message.id and message.string and not message.fuzzy:
                        merged.setdefault(message.id, message.string)
    return merged


def problems() -> list[str]:
    """Messages in the source without a fi/sv translation in any catalogue.

    Areas may overlap (a file matched by two ``babel.cfg``); a message counts as translated
    when any catalogue translates it, because at run time the catalogues are merged.
    """
    found: list[str] = []
    translated = {language: _translated(language) for language in ("fi", "sv")}
    for area in areas():
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / "fresh.pot"
            _extract_to(area, fresh)
            with fresh.open("rb") as handle:
                wanted = {m.id for m in read_po(handle) if m.id}
        for language in ("fi", "sv"):
            if not (area / language / "LC_MESSAGES" / "messages.po").exists():
                found.append(f"{area.name}/{language}: no catalogue")
                continue
            for msgid in sorted(wanted, key=str):
                text = translated[language].get(msgid)
                if not text or (isinstance(text, tuple) and not all(text)):
                    found.append(f"{area.name}/{language}: {msgid!r}")
    return found


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "extract":
        extract(sys.argv[2])
    elif command == "compile":
        compile_all()
    elif command == "check":
        missing = problems()
        print("\n".join(missing) or "all messages translated")
        sys.exit(1 if missing else 0)
    else:
        sys.exit(__doc__)
