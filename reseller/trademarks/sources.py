"""Where the watch gets a TLD's zone file for a day, chosen by ``TRADEMARK_ZONE_SOURCE``.

``czds``: ICANN's Centralized Zone Data Service (REST API: authenticate for a bearer
token at the account API, then ``GET /czds/downloads/<tld>.zone`` for each approved TLD;
the body is the gzip file, streamed to disk). ``directory``: ``<tld>.zone.gz`` (or
``.zone``) files another process drops in a folder (a CZDS downloader, ``.se``/``.nu``
zone transfers). ``sandbox``: a generator of realistic daily files (below). ``none``:
no zone files; only Tunnus's own registrations are watched.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import idna

from reseller.trademarks import matching

ZONE_SOURCES = ("sandbox", "czds", "directory", "none")
CZDS_AUTH_URL = "https://account-api.icann.org/api/authenticate"
CZDS_API_URL = "https://czds-api.icann.org"
_BLOCK = 1 << 20


class ZoneSource(Protocol):
    tlds: tuple[str, ...]

    def fetch(self, tld: str, day: date, workdir: Path) -> Path:
        """The zone file of ``tld`` as of ``day`` (a path under ``workdir`` or the
        source's own); raises ``OSError`` when it cannot be had (retried next run)."""


class NoZones:
    tlds: tuple[str, ...] = ()

    def fetch(self, tld: str, day: date, workdir: Path) -> Path:  # pragma: no cover
        raise OSError("no zone source configured")


class DirectoryZones:
    def __init__(self, folder: str, tlds: Iterable[str]) -> None:
        self.folder, self.tlds = Path(folder), tuple(tlds)

    def fetch(self, tld: str, day: date, workdir: Path) -> Path:
        for name in (f"{tld}.zone.gz", f"{tld}.zone", f"{tld}.txt.gz", f"{tld}.txt"):
            if (self.folder / name).exists():
                return self.folder / name
        raise OSError(f"no zone file for .{tld} in {self.folder}")


class CzdsZones:
    """ICANN CZDS (https://github.com/icann/czds-api-client-python documents the calls)."""

    def __init__(self, *, username: str, password: str, tlds: Iterable[str],
                 auth_url: str = CZDS_AUTH_URL, api_url: str = CZDS_API_URL,
                 timeout: float = 120.0) -> None:
        self.tlds = tuple(tlds)
        self._username, self._password = username, password
        self._auth_url, self._api_url, self._timeout = auth_url, api_url.rstrip("/"), timeout
        self._token: str | None = None

    def _authenticate(self) -> str:
        body = json.dumps({"username": self._username, "password": self._password}).encode()
        request = urllib.request.Request(self._auth_url, data=body, method="POST", headers={
            "Content-Type": "application/json", "Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
            token = json.loads(response.read(1 << 16)).get("accessToken")
        if not token:
            raise OSError("CZDS authentication gave no access token")
        return token

    def fetch(self, tld: str, day: date, workdir: Path) -> Path:
        self._token = self._token or self._authenticate()
        target = workdir / f"{tld}-{day.isoformat()}.zone.gz"
        request = urllib.request.Request(f"{self._api_url}/czds/downloads/{tld}.zone",
                                         headers={"Authorization": f"Bearer {self._token}"})
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response, \
                    open(target, "wb") as handle:  # noqa: S310
                shutil.copyfileobj(response, handle, _BLOCK)
        except urllib.error.HTTPError as error:
            if error.code == 401:
                self._token = None  # expired (tokens last 24 h): next run signs in again
            raise OSError(f"CZDS answered {error.code} for .{tld}") from error
        return target


# -- the sandbox: realistic daily zone files ---------------------------------------------------

EPOCH = date(2026, 1, 1)
_ONSETS = ("k", "v", "s", "t", "m", "n", "p", "r", "l", "h", "j", "b", "d", "g", "st", "tr",
           "kr", "pr", "br", "sk", "")
_VOWELS = ("a", "e", "i", "o", "u", "y", "ai", "ei", "ou", "ee", "oo", "ia")
_CODAS = ("", "", "n", "s", "t", "r", "l", "k", "nk", "st", "m")
_WORDS = ("shop", "web", "net", "tech", "media", "group", "design", "data", "cloud",
          "koti", "talo", "palvelu", "kauppa", "studio", "solutions", "partners", "digital")
_HOSTERS = ("nsone.example", "dnshost.example", "hostingpalvelu.example", "webhotelli.example",
            "cloudns.example", "registrar-servers.example")


def _hash(*parts: Any) -> bytes:
    return hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=16).digest()


class SandboxZones:
    """Daily files in CZDS format for any TLD: ``size`` names on ``epoch``, then each day
    0.2 % new registrations (and a few deletions), every name with two or three NS
    records, some DNSSEC (DS) and in-zone glue. A few names a day imitate the ``seeds``
    (the active marks' labels): typos, look-alikes, homographs, the mark plus a word, as
    squatters register them. Deterministic: the same TLD and day give the same file."""

    def __init__(self, *, tlds: Iterable[str], size: int = 10_000,
                 seeds: Iterable[str] = (), epoch: date = EPOCH) -> None:
        self.tlds, self.size, self.epoch = tuple(tlds), max(10, size), epoch
        self.seeds = tuple(dict.fromkeys(seeds))
        self.daily = max(1, self.size // 500)

    def fetch(self, tld: str, day: date, workdir: Path) -> Path:
        target = workdir / f"{tld}-{day.isoformat()}.zone.gz"
        with gzip.open(target, "wt", encoding="ascii", compresslevel=1) as handle:
            self.write(handle, tld, day)
        return target

    def write(self, handle: Any, tld: str, day: date) -> None:
        serial = int(day.strftime("%Y%m%d")) * 100
        handle.write(f"{tld}.\t86400\tin\tsoa\ta.nic.{tld}. hostmaster.nic.{tld}. {serial} "
                     f"1800 900 604800 86400\n")
        for letter in "abc":
            handle.write(f"{tld}.\t172800\tin\tns\t{letter}.nic.{tld}.\n")
        for label in self.labels(tld, day):
            handle.write(self._records(label, tld))

    def labels(self, tld: str, day: date) -> Iterator[str]:
        k = max(0, (day - self.epoch).days)
        for index in range(self.size + k * self.daily):
            born = 0 if index < self.size else (index - self.size) // self.daily + 1
            digest = _hash(tld, index)
            if digest[0] < 1 and k >= born + 1 + digest[1]:
                continue  # deleted (0.4 % of names, within 256 days)
            yield self._label(digest)
        for start in range(max(0, k - 14), k + 1):  # look-alikes stay two weeks
            for seed in self.seeds:
                yield from self._imitations(seed, tld, start)

    @staticmethod
    def _label(digest: bytes) -> str:
        parts = []
        for i in range(2 + digest[2] % 3):
            parts.append(_ONSETS[digest[3 + i] % len(_ONSETS)]
                         + _VOWELS[digest[6 + i] % len(_VOWELS)]
                         + _CODAS[digest[9 + i] % len(_CODAS)])
        label = "".join(parts)
        if digest[12] % 5 == 0:
            label += ("-" if digest[13] % 2 else "") + _WORDS[digest[14] % len(_WORDS)]
        if digest[15] % 17 == 0:
            label += str(digest[15] % 100)
        return label

    def _imitations(self, seed: str, tld: str, day: int) -> Iterator[str]:
        digest = _hash("imitate", seed, tld, day)
        for n in range(2 + digest[0] % 3):  # 2–4 a day per mark and TLD
            variant = _variant(seed, digest[1 + n * 2], digest[2 + n * 2])
            if variant:
                try:
                    yield idna.encode(variant).decode()
                except idna.IDNAError:
                    continue

    @staticmethod
    def _records(label: str, tld: str) -> str:
        digest = _hash("ns", label, tld)
        name = f"{label}.{tld}."
        if digest[0] % 9 == 0:  # its own nameservers, with glue
            lines = [f"{name}\t172800\tin\tns\tns{i}.{name}\n" for i in (1, 2)]
            lines += [f"ns{i}.{name}\t172800\tin\ta\t192.0.2.{(digest[1] + i) % 250 + 1}\n"
                      for i in (1, 2)]
        else:
            host = _HOSTERS[digest[2] % len(_HOSTERS)]
            count = 2 + digest[3] % 2
            lines = [f"{name}\t172800\tin\tns\tns{i}.{host}.\n" for i in range(1, count + 1)]
        if digest[4] % 4 == 0:
            lines.append(f"{name}\t86400\tin\tds\t{(digest[5] << 8) | digest[6]} 13 2 "
                         f"{digest.hex()}{digest.hex()}\n")
        return "".join(lines)


_CYRILLIC = {"a": "\u0430", "c": "\u0441", "e": "\u0435", "o": "\u043e", "p": "\u0440",
             "x": "\u0445", "y": "\u0443"}
_ASCII_FAKES = {"o": "0", "l": "1", "i": "1", "m": "rn"}


def _variant(seed: str, kind: int, where: int) -> str | None:
    """One imitation of ``seed``: which kind and where are chosen by the caller's hash."""
    if not seed:
        return None
    i = where % len(seed)
    choice = kind % 6
    if choice == 0:  # a neighbouring key
        near = sorted(k for k in matching._neighbours().get(seed[i], ()) if k.isalnum())
        return seed[:i] + near[where % len(near)] + seed[i + 1:] if near else None
    if choice == 1 and len(seed) > 1:  # two letters swapped
        i = min(i, len(seed) - 2)
        return seed[:i] + seed[i + 1] + seed[i] + seed[i + 2:]
    if choice == 2:  # the mark and a word
        word = matching.AFFIXES[where % len(matching.AFFIXES)]
        return f"{word}{seed}" if where % 2 else f"{seed}-{word}"
    if choice == 3:  # ASCII look-alike
        spots = [j for j, char in enumerate(seed) if char in _ASCII_FAKES]
        if spots:
            j = spots[where % len(spots)]
            return seed[:j] + _ASCII_FAKES[seed[j]] + seed[j + 1:]
    if choice == 4:  # IDN homograph
        spots = [j for j, char in enumerate(seed) if char in _CYRILLIC]
        if spots:
            j = spots[where % len(spots)]
            return seed[:j] + _CYRILLIC[seed[j]] + seed[j + 1:]
    if choice == 5 and where % 2:  # the mark itself, in this TLD
        return seed
    return seed[:i] + seed[i + 1:] if len(seed) > 3 else seed + seed[-1]  # a letter dropped


def zone_source(config: dict[str, Any], seeds: Iterable[str] = ()) -> ZoneSource:
    kind = config.get("TRADEMARK_ZONE_SOURCE") or "none"
    tlds = config.get("TRADEMARK_ZONE_TLDS") or ()
    if kind == "sandbox":
        return SandboxZones(tlds=tlds, size=int(config.get("TRADEMARK_SANDBOX_ZONE_SIZE") or
                                                10_000), seeds=seeds)
    if kind == "directory":
        return DirectoryZones(config["TRADEMARK_ZONE_FILES"], tlds)
    if kind == "czds":
        return CzdsZones(username=config["CZDS_USERNAME"], password=config["CZDS_PASSWORD"],
                         tlds=tlds, auth_url=config.get("CZDS_AUTH_URL") or CZDS_AUTH_URL,
                         api_url=config.get("CZDS_API_URL") or CZDS_API_URL)
    return NoZones()
