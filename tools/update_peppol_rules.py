"""Refresh the official Peppol BIS Billing 3.0 rules the e-invoice tests run.

    python tools/update_peppol_rules.py PEPPOL_CHECKOUT [--schxslt SCHXSLT_CHECKOUT]
        [--en16931 EN16931_CHECKOUT]

PEPPOL_CHECKOUT is a checkout of OpenPEPPOL's peppol-bis-invoice-3 at the release to use
(a tag such as v3.0.19). Its ``rules/sch/PEPPOL-EN16931-UBL.sch`` (OpenPEPPOL's rules) and
``rules/sch/CEN-EN16931-UBL.sch`` (CEN TC434's EN 16931 rules bound to UBL, as that release
ships them) and the example ``rules/examples/base-example.xml`` are copied into
``tests/support/peppol/``; ``--schxslt`` refreshes the SchXslt compiler (a checkout of
schxslt at a release tag) and ``--en16931`` the EUPL text (ConnectingEurope's
eInvoicing-EN16931). Both rule files are then compiled to XSLT with SchXslt on saxonche,
to prove they compile, and ``VERSION.json`` records the release, its commit and today's
date. Run the e-invoice tests afterwards (docs/invoices.md, "E-invoice").
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent / "tests" / "support" / "peppol"
RULES = ("PEPPOL-EN16931-UBL.sch", "CEN-EN16931-UBL.sch")
SCHXSLT = Path("core/src/main/resources/xslt/2.0")
# What pipeline-for-svrl.xsl includes and imports (nothing else of SchXslt is kept).
SCHXSLT_FILES = ("pipeline-for-svrl.xsl", "pipeline.xsl", "svrl.xsl", "expand.xsl",
                 "include.xsl", "version.xsl", "compile/compile-2.0.xsl",
                 "compile/api-2.0.xsl", "compile/functions.xsl", "compile/templates.xsl")


def _git(checkout: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(checkout), *args], check=True,
                          capture_output=True, text=True).stdout.strip()


def _describe(checkout: Path) -> tuple[str, str]:
    """(tag or description, commit) of a checkout; ("", "") when it is not a git tree."""
    try:
        return _git(checkout, "describe", "--tags", "--always"), _git(checkout, "rev-parse",
                                                                      "HEAD")
    except (subprocess.CalledProcessError, FileNotFoundError):
        return "", ""


def _release(sch: Path, pattern: str) -> str:
    found = re.search(pattern, sch.read_text(encoding="utf-8")[:2000])
    return found.group(1) if found else "unknown"


def compile_rules(directory: Path = HERE) -> dict[str, int]:
    """Compile each rule file with SchXslt; the number of asserts in each (a sanity check)."""
    sys.path.insert(0, str(directory.parent.parent.parent))
    from tests.support.peppol_rules import compiled_stylesheet

    return {name: compiled_stylesheet(directory / name).count("failed-assert")
            for name in RULES}


def update(peppol: Path, schxslt: Path | None, en16931: Path | None) -> dict:
    for name in RULES:
        shutil.copyfile(peppol / "rules" / "sch" / name, HERE / name)
    shutil.copyfile(peppol / "rules" / "examples" / "base-example.xml", HERE / "base-example.xml")
    if schxslt is not None:
        target = HERE / "schxslt"
        shutil.rmtree(target, ignore_errors=True)
        for name in SCHXSLT_FILES:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(schxslt / SCHXSLT / name, target / name)
        shutil.copyfile(schxslt / "LICENSE", target / "LICENSE")
    if en16931 is not None:
        shutil.copyfile(en16931 / "LICENSE.txt", HERE / "EUPL-1.2.txt")
    tag, commit = _describe(peppol)
    version = json.loads((HERE / "VERSION.json").read_text()) if (
        HERE / "VERSION.json").exists() else {}
    version.update({
        "peppol_bis_billing": _release(HERE / RULES[0], r"release (\d+\.\d+\.\d+)"),
        "cen_en16931_ubl": _release(HERE / RULES[1], r"Schematron version ([\d.]+)"),
        "source": "https://github.com/OpenPEPPOL/peppol-bis-invoice-3",
        "tag": tag, "commit": commit, "updated": date.today().isoformat()})
    if schxslt is not None:
        version["schxslt"], version["schxslt_commit"] = _describe(schxslt)
    if en16931 is not None:
        version["eupl_from"] = ("https://github.com/ConnectingEurope/eInvoicing-EN16931 @ "
                                + _describe(en16931)[1])
    (HERE / "VERSION.json").write_text(json.dumps(version, indent=2) + "\n")
    version["asserts"] = compile_rules()
    return version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("peppol", type=Path, help="checkout of peppol-bis-invoice-3")
    parser.add_argument("--schxslt", type=Path, help="checkout of schxslt (a release tag)")
    parser.add_argument("--en16931", type=Path, help="checkout of eInvoicing-EN16931")
    args = parser.parse_args()
    print(json.dumps(update(args.peppol, args.schxslt, args.en16931), indent=2))


if __name__ == "__main__":
    main()
