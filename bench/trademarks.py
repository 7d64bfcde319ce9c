"""Zone-file diff for the trademark watch: two generated daily .com files of ``--names``
delegations (CZDS format, gzip), the first sorted into a snapshot, the second diffed
against it and its new names matched against ``--marks`` protected marks.

    .venv/bin/python bench/trademarks.py [--names 1000000] [--marks 100] [--chunk 200000]

The diff and the matching run in a child process of their own, so its peak RSS is theirs
alone; the last lines print the figures (no database, no servers needed).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reseller.trademarks import zonefiles  # noqa: E402
from reseller.trademarks.matching import Matcher, mark_labels  # noqa: E402
from reseller.trademarks.sources import SandboxZones  # noqa: E402

DAY1, DAY2 = date(2026, 11, 23), date(2026, 11, 24)
MARKS = ["nordname", "kotimaa", "verkkokauppa", "paypal", "lumimarja", "sisu", "fazer",
         "marimekko", "iittala", "finnair", "supercell", "kesko", "posti", "elisa", "telia",
         "nokia", "kone", "wartsila", "valio", "stockmann"]


def _marks(count: int) -> list[str]:
    return [MARKS[i % len(MARKS)] + ("" if i < len(MARKS) else str(i)) for i in range(count)]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(folder: Path, marks: int, chunk: int) -> None:
    """The measured part: baseline snapshot, then today's diff and matching."""
    matcher = Matcher([(i, mark_labels(text)) for i, text in enumerate(_marks(marks))])
    matcher.match("warm-up.com")  # loads the confusables data
    before = _peak_mb()  # the interpreter, the app's modules and the matcher
    start = time.perf_counter()
    list(zonefiles.zone_diff(folder / "day1.zone.gz", "com", snapshot=folder / "1.names.gz",
                             previous=None, chunk=chunk))
    baseline = time.perf_counter() - start
    start = time.perf_counter()
    new = hits = 0
    for name in zonefiles.zone_diff(folder / "day2.zone.gz", "com",
                                    snapshot=folder / "2.names.gz",
                                    previous=folder / "1.names.gz", chunk=chunk):
        new += 1
        hits += len(matcher.match(name))
    diff = time.perf_counter() - start
    print(json.dumps({"baseline_s": baseline, "diff_s": diff, "new": new, "hits": hits,
                      "rss_before_mb": before, "peak_rss_mb": _peak_mb()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=1_000_000)
    parser.add_argument("--marks", type=int, default=100)
    parser.add_argument("--chunk", type=int, default=zonefiles.CHUNK_NAMES)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child), args.marks, args.chunk)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = SandboxZones(tlds=("com",), size=args.names, epoch=DAY1,
                              seeds=[mark_labels(m)[0] for m in _marks(args.marks)])
        start = time.perf_counter()
        for day, name in ((DAY1, "day1"), (DAY2, "day2")):
            source.fetch("com", day, folder).rename(folder / f"{name}.zone.gz")
        generated = time.perf_counter() - start
        sizes = {p.name: p.stat().st_size for p in folder.glob("day*.zone.gz")}
        with zonefiles.open_text(folder / "day2.zone.gz") as handle:
            lines = sum(1 for _ in handle)
        result = json.loads(subprocess.run(
            [sys.executable, __file__, "--child", str(folder), "--marks", str(args.marks),
             "--chunk", str(args.chunk)], check=True, capture_output=True, text=True).stdout)
        per_s = (args.names * 2) / (result["baseline_s"] + result["diff_s"])
        print(f"generated 2 zone files in {generated:.1f} s: {lines} lines, "
              f"{sizes['day2.zone.gz'] / 2**20:.1f} MiB gzip each (about)")
        print(f"names={args.names} marks={args.marks} chunk={args.chunk}")
        print(f"baseline_sort_s={result['baseline_s']:.1f} diff_and_match_s="
              f"{result['diff_s']:.1f} names_per_s={per_s:,.0f}")
        print(f"new_names={result['new']} matches={result['hits']} "
              f"rss_before_diff_mb={result['rss_before_mb']:.0f} "
              f"peak_rss_mb={result['peak_rss_mb']:.0f}")


if __name__ == "__main__":
    main()
