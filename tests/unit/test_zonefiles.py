"""Zone files as CZDS distributes them: the delegated names are read line by line, sorted
in bounded chunks and diffed against the day before (no zone held in memory)."""

from __future__ import annotations

import gzip
import io
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from reseller.trademarks import zonefiles
from reseller.trademarks.sources import SandboxZones

CZDS = """\
com.\t900\tin\tsoa\ta.gtld-servers.net. nstld.verisign-grs.com. 1700000000 1800 900 604800 86400
com.\t172800\tin\tns\ta.gtld-servers.net.
; a comment
$TTL 172800
nordname.com.\t172800\tin\tns\tns1.host.example.
nordname.com.\t172800\tin\tns\tns2.host.example.
NORDNARNE.COM. 172800 IN NS ns1.host.example.
xn--pypal-4ve.com.\tin\t172800\tns\tns1.host.example.
ns1.nordname.com.\t172800\tin\ta\t192.0.2.1
nordname.com.\t86400\tin\tds\t12345 13 2 ABCDEF
sub.nordname.com.\t172800\tin\tns\tns1.host.example.
other.net.\t172800\tin\tns\tns1.host.example.
broken
"""


def test_delegations_are_the_ns_owners_one_label_below_the_tld():
    names = list(zonefiles.delegated_names(io.StringIO(CZDS), "com"))
    assert names == ["nordname.com", "nordname.com", "nordnarne.com", "xn--pypal-4ve.com"]


def test_names_are_sorted_in_chunks_and_merged_without_repeats(tmp_path):
    names = [f"n{i % 997:04d}.com" for i in range(5000)]
    count = zonefiles.sort_names(iter(names), tmp_path / "out.gz", chunk=300)
    assert count == 997
    assert list(zonefiles.read_snapshot(tmp_path / "out.gz")) == sorted(set(names))


@settings(max_examples=50, deadline=None)
@given(old=st.sets(st.text("abcde", min_size=1, max_size=4)),
       new=st.sets(st.text("abcde", min_size=1, max_size=4)))
def test_the_diff_is_exactly_the_new_names(old, new):
    assert list(zonefiles.new_names(sorted(old), sorted(new))) == sorted(new - old)


def test_a_zone_diff_reports_nothing_on_the_first_day_then_only_new_names(tmp_path):
    def zone(path, labels):
        with gzip.open(path, "wt") as handle:
            handle.write("fi.\t3600\tin\tsoa\ta. b. 1 2 3 4 5\n")
            handle.writelines(f"{label}.fi.\t3600\tin\tns\tns.x.example.\n" for label in labels)
        return path

    day1 = tmp_path / "1.names.gz"
    first = zonefiles.zone_diff(zone(tmp_path / "z1.gz", ["b", "a", "c"]), "fi",
                                snapshot=day1, previous=None, chunk=2)
    assert list(first) == []
    second = zonefiles.zone_diff(zone(tmp_path / "z2.gz", ["c", "d", "a", "e"]), "fi",
                                 snapshot=tmp_path / "2.names.gz", previous=day1, chunk=2)
    assert list(second) == ["d.fi", "e.fi"]


def test_the_sandbox_writes_a_realistic_growing_zone(tmp_path):
    source = SandboxZones(tlds=("com",), size=2500, seeds=["nordname"])
    monday = source.fetch("com", date(2026, 11, 23), tmp_path)
    tuesday = source.fetch("com", date(2026, 11, 24), tmp_path)
    with zonefiles.open_text(monday) as handle:
        lines = handle.read().splitlines()
    assert lines[0].startswith("com.\t86400\tin\tsoa\t")
    assert any("\tin\tds\t" in line for line in lines)  # DNSSEC delegations
    assert any("\tin\ta\t" in line for line in lines)  # glue
    assert source.fetch("com", date(2026, 11, 23), tmp_path).read_bytes() == monday.read_bytes()
    old, new = (set(zonefiles.delegated_names(zonefiles.open_text(p), "com"))
                for p in (monday, tuesday))
    assert len(new - old) >= 5 and len(old - new) < 5  # 0.2 % new, few deletions
