"""Trademark settings from the environment (read once by ``init_app``) and what
production refuses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reseller.trademarks.sources import ZONE_SOURCES

DEFAULT_TLDS = "com,net,org"


def load(env: Mapping[str, str], *, sandbox: bool, instance_dir: str) -> dict[str, Any]:
    source = env.get("TRADEMARK_ZONE_SOURCE") or ("sandbox" if sandbox else "none")
    tlds = env.get("TRADEMARK_ZONE_TLDS", DEFAULT_TLDS)
    return {
        "TRADEMARK_ZONE_SOURCE": source.strip().lower(),
        "TRADEMARK_ZONE_TLDS": tuple(t.strip().lower().strip(".") for t in tlds.split(",")
                                     if t.strip()),
        "TRADEMARK_ZONE_DIR": env.get("TRADEMARK_ZONE_DIR") or f"{instance_dir}/zones",
        "TRADEMARK_ZONE_FILES": env.get("TRADEMARK_ZONE_FILES", ""),
        "TRADEMARK_SANDBOX_ZONE_SIZE": int(env.get("TRADEMARK_SANDBOX_ZONE_SIZE") or 10_000),
        "CZDS_USERNAME": env.get("CZDS_USERNAME", ""),
        "CZDS_PASSWORD": env.get("CZDS_PASSWORD", ""),
        "CZDS_AUTH_URL": env.get("CZDS_AUTH_URL", ""),
        "CZDS_API_URL": env.get("CZDS_API_URL", ""),
    }


def production_problems(config: Mapping[str, Any]) -> list[str]:
    source = config.get("TRADEMARK_ZONE_SOURCE")
    if source not in ZONE_SOURCES:
        return [f"TRADEMARK_ZONE_SOURCE must be one of {', '.join(ZONE_SOURCES)}"]
    if source == "sandbox":
        return ["TRADEMARK_ZONE_SOURCE=sandbox invents zone files: use czds, directory or none"]
    if source == "czds" and not (config.get("CZDS_USERNAME") and config.get("CZDS_PASSWORD")):
        return ["TRADEMARK_ZONE_SOURCE=czds needs CZDS_USERNAME and CZDS_PASSWORD"]
    if source == "directory" and not config.get("TRADEMARK_ZONE_FILES"):
        return ["TRADEMARK_ZONE_SOURCE=directory needs TRADEMARK_ZONE_FILES (a folder)"]
    return []
