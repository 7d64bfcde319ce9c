"""Architecture rules: wallet/whitelabel never import reseller features; one commit point."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_wallet_and_whitelabel_import_only_reseller_core():
    offenders = []
    for package in ("wallet", "whitelabel"):
        for path in (ROOT / package).rglob("*.py"):
            for name in _imports(path):
                if name.startswith("reseller") and not name.startswith("reseller.core"):
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_only_core_db_commits():
    offenders = []
    for package in ("reseller", "wallet", "whitelabel"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts or path == ROOT / "reseller/core/db.py":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr == "commit"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
