"""Write translations from a Python dict file into an area's fi/sv catalogues.

    python i18n/fill.py AREA TRANSLATIONS.py   # TRANSLATIONS.py defines T = {msgid: (fi, sv)}

Only empty entries are filled; existing translations are kept.
"""

import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent


def fill(area: str, table: dict) -> list[str]:
    missing = []
    for index, language in enumerate(("fi", "sv")):
        po = ROOT / area / language / "LC_MESSAGES" / "messages.po"
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        catalog.fuzzy = False  # the header's "fuzzy" from `init` would make compile skip it
        catalog.project = "Tunnus"
        for message in catalog:
            if not message.id or message.string:
                continue
            if message.id in table:
                message.string = table[message.id][index]
            else:
                missing.append(f"{language}: {message.id}")
        with po.open("wb") as handle:
            write_po(handle, catalog, width=100, omit_header=False)
    return missing


if __name__ == "__main__":
    left = fill(sys.argv[1], runpy.run_path(sys.argv[2])["T"])
    print("\n".join(left) or "all filled")
