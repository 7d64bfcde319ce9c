"""Zone files as ICANN's CZDS hands them out, read a line at a time: which names a day's
file delegates, and which of them are new since the day before.

A CZDS file is a gzip-compressed RFC 1035 master file, one record per line, owner names
fully qualified and lower case (``nordname.com.	172800	in	ns	ns1.host.net.``); a
.com file has hundreds of millions of lines. Nothing here holds a zone in memory: the
delegated names are sorted in bounded chunks written to temporary files and merged
(``sort_names``), and two sorted snapshots are compared by walking both at once
(``new_names``). The order of the input file does not matter.
"""

from __future__ import annotations

import gzip
import heapq
import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO

CHUNK_NAMES = 200_000  # names sorted in memory at once (about 20 MB of strings)
_CLASSES = {"in", "ch", "hs", "cs"}


def open_text(path: Path) -> IO[str]:
    """A zone or snapshot file as text lines, gzip-compressed or not."""
    raw = open(path, "rb")  # noqa: SIM115  (closed with the wrapper)
    head = raw.read(2)
    raw.seek(0)
    stream = gzip.GzipFile(fileobj=raw) if head == b"\x1f\x8b" else raw
    return io.TextIOWrapper(stream, encoding="ascii", errors="replace", newline="")


def delegated_names(lines: Iterable[str], tld: str) -> Iterator[str]:
    """The owner names of NS records one label below ``tld`` (the zone's delegations,
    i.e. its registered domains), without the trailing dot. A name with two NS records
    comes out twice; glue, DS and the apex's own records are skipped."""
    suffix = "." + tld.strip(".").lower() + "."
    for line in lines:
        # The hot path: CZDS lines are lower case and tab-separated, so a line of another
        # type is skipped before it is split.
        if "\tns\t" not in line and "\t" in line and line.islower():
            continue
        if not line or line[0] in ";$\n\r \t":
            continue  # comments, directives, blank lines, continued owner names
        fields = line.split()
        if len(fields) < 4:
            continue
        owner = fields[0].lower()
        if not owner.endswith(suffix) or "." in owner[:-len(suffix)]:
            continue  # the apex, or a host below a domain (glue)
        if _record_type(fields) == "ns":
            yield owner[:-1]


def _record_type(fields: list[str]) -> str:
    """The type after the optional TTL and class (both orders are legal)."""
    for field in fields[1:4]:
        lowered = field.lower()
        if lowered.isdigit() or lowered in _CLASSES:
            continue
        return lowered
    return ""


def sort_names(names: Iterable[str], into: Path, *, chunk: int = CHUNK_NAMES,
               workdir: Path | None = None) -> int:
    """Write ``names`` sorted and without repeats to ``into`` (gzip, one a line) using at
    most ``chunk`` names of memory; returns how many were written."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        runs: list[Path] = []
        batch: list[str] = []
        for name in names:
            batch.append(name)
            if len(batch) >= chunk:
                runs.append(_write_run(sorted(set(batch)), Path(tmp), len(runs)))
                batch = []
        if batch or not runs:
            runs.append(_write_run(sorted(set(batch)), Path(tmp), len(runs)))
        with ExitStack() as stack:
            streams = [_lines(stack.enter_context(open_text(run))) for run in runs]
            return _write_unique(heapq.merge(*streams), into)


def _write_run(names: list[str], folder: Path, number: int) -> Path:
    path = folder / f"run-{number:05d}"
    with open(path, "w", encoding="ascii", errors="replace") as handle:
        handle.writelines(f"{name}\n" for name in names)
    return path


def _lines(handle: IO[str]) -> Iterator[str]:
    for line in handle:
        yield line.rstrip("\n")


def _write_unique(names: Iterator[str], into: Path) -> int:
    count, previous = 0, None
    partial = into.with_name(into.name + ".part")
    with gzip.open(partial, "wt", encoding="ascii", compresslevel=3) as handle:
        for name in names:
            if name != previous:
                handle.write(name + "\n")
                count += 1
                previous = name
    os.replace(partial, into)  # a snapshot is whole or absent
    return count


def read_snapshot(path: Path) -> Iterator[str]:
    with open_text(path) as handle:
        yield from _lines(handle)


def new_names(old: Iterable[str], new: Iterable[str]) -> Iterator[str]:
    """Names in the sorted ``new`` that the sorted ``old`` lacks (one pass over each)."""
    old_iter = iter(old)
    current = next(old_iter, None)
    for name in new:
        while current is not None and current < name:
            current = next(old_iter, None)
        if current != name:
            yield name


def zone_diff(zone_file: Path, tld: str, *, snapshot: Path, previous: Path | None,
              chunk: int = CHUNK_NAMES) -> Iterator[str]:
    """Sort today's delegations into ``snapshot`` and yield those not in ``previous``
    (nothing on the first day: without yesterday's list no name can be called new)."""
    with open_text(zone_file) as handle:
        sort_names(delegated_names(handle, tld), snapshot, chunk=chunk,
                   workdir=snapshot.parent)
    if previous is None or not previous.exists():
        return iter(())
    return new_names(read_snapshot(previous), read_snapshot(snapshot))
