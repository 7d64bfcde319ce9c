"""The official Peppol BIS Billing 3.0 rules, run as their publishers ship them.

OpenPEPPOL's ``PEPPOL-EN16931-UBL.sch`` and CEN TC434's ``CEN-EN16931-UBL.sch`` (in
``peppol/``, see its README for the release and how to update) are compiled to XSLT by
SchXslt and run on Saxon (saxonche, XSLT 3.0) — the pipeline the Peppol validators use.
A document passes when no assert flagged ``fatal`` fails; warnings are reported too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

HERE = Path(__file__).resolve().parent / "peppol"
RULES = ("CEN-EN16931-UBL.sch", "PEPPOL-EN16931-UBL.sch")
SVRL = "http://purl.oclc.org/dsdl/svrl"


@dataclass(frozen=True)
class Finding:
    rule: str
    flag: str  # fatal | warning (as the rule file flags the assert)
    text: str
    location: str

    def __str__(self) -> str:
        return f"[{self.flag}] {self.rule}: {self.text} ({self.location})"


def version() -> dict:
    return json.loads((HERE / "VERSION.json").read_text())


@cache
def _saxon():
    from saxonche import PySaxonProcessor

    # One processor for the whole test process: SaxonC keeps a single VM per process.
    return PySaxonProcessor(license=False)


@cache
def compiled_stylesheet(sch: Path) -> str:
    """The XSLT SchXslt makes of a schematron file (include, expand, compile)."""
    pipeline = _saxon().new_xslt30_processor().compile_stylesheet(
        stylesheet_file=str(HERE / "schxslt" / "pipeline-for-svrl.xsl"))
    return pipeline.transform_to_string(source_file=str(sch))


@cache
def _executable(name: str):
    return _saxon().new_xslt30_processor().compile_stylesheet(
        stylesheet_text=compiled_stylesheet(HERE / name))


def findings(xml: bytes) -> list[Finding]:
    """Every failed assert and successful report of both rule sets on ``xml``."""
    node = _saxon().parse_xml(xml_text=xml.decode("utf-8"))
    found: list[Finding] = []
    for name in RULES:
        executable = _executable(name)
        executable.set_global_context_item(xdm_item=node)
        report = etree.fromstring(executable.transform_to_string(xdm_node=node).encode())
        for element in report.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
            text = " ".join("".join(element.itertext()).split())
            found.append(Finding(element.get("id") or "?", element.get("flag") or "error",
                                 text, element.get("location") or ""))
    return found


def fatal(xml: bytes) -> list[str]:
    """The fatal findings (what a Peppol access point refuses), as readable lines."""
    return [str(finding) for finding in findings(xml) if finding.flag == "fatal"]
