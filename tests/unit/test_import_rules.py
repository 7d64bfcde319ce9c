"""Architecture rules, counting imports inside functions too: the kernel imports nothing
above itself; wallet/whitelabel import only the kernel; only the entry points import whole
features; features use each other only through their public modules and never in a loop;
one commit point."""

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("reseller", "wallet", "whitelabel")
# The modules that wire or run the whole application (wsgi.py imports app.py).
ENTRY_POINTS = {"reseller/app.py", "reseller/worker.py", "reseller/cli.py"}
# What a feature offers the others; everything else in it is its own business.
PUBLIC_MODULES = ("services", "models", "errors")


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    package = _module_of(path) if path.name == "__init__.py" else _module_of(path.parent)
    return _imported_names(path.read_text(), package)


def _import_statements(source: str, package: str):
    """``(module, names)`` for every import in ``source``, anywhere (functions included):
    ``import a.b`` gives ``("a.b", ())``, ``from a import b`` gives ``("a", ("b",))``;
    relative ones resolved against ``package``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, tuple(alias.name for alias in node.names)


def _imported_names(source: str, package: str) -> set[str]:
    """Every dotted name ``source`` imports: ``import a.b`` gives ``a.b``; ``from a import
    b`` gives ``a`` and ``a.b``."""
    names: set[str] = set()
    for module, members in _import_statements(source, package):
        names.add(module)
        names.update(f"{module}.{member}" for member in members)
    return names


def _sources(*packages: str):
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _features() -> set[str]:
    """Every feature package: reseller's subpackages but the kernel, and the two wings."""
    found = {f"reseller.{path.parent.name}" for path in (ROOT / "reseller").glob("*/__init__.py")}
    return (found - {"reseller.core", "reseller.migrations"}) | {"wallet", "whitelabel"}


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _imported_modules(path: Path) -> set[str]:
    package = _module_of(path) if path.name == "__init__.py" else _module_of(path.parent)
    return _imported_modules_in(path.read_text(), package)


def _imported_modules_in(source: str, own: str) -> set[str]:
    """The modules ``source`` imports, anywhere (functions included): ``from a import b``
    is the module ``a.b`` when there is one, else ``a`` (``b`` is a name in it); relative
    ones resolved against the package ``own``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = own.split(".")[:len(own.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if _is_module(f"{base}.{alias.name}") else base)
    return found


def _cross_feature_imports(features: set[str]):
    """(file, its feature, the other feature, module) for every import, functions
    included, of one of ``features`` from another of them."""
    for feature in sorted(features):
        for path in _sources(feature.replace(".", "/")):
            for module in sorted(_imported_modules(path)):
                other = next((f for f in features if _within(module, f)), None)
                if other is not None and other != feature:
                    yield path, feature, other, module


def _private_reaches(features: set[str]) -> list[str]:
    """Imports among ``features`` of anything but another feature's public modules."""
    return [f"{path.relative_to(ROOT)} imports {module}"
            for path, _, other, module in _cross_feature_imports(features)
            if not any(_within(module, f"{other}.{public}") for public in PUBLIC_MODULES)]


def _feature_graph(features: set[str]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for _, feature, other, _ in _cross_feature_imports(features):
        graph[feature].add(other)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every loop of the graph (each once, from its smallest node): ``[a, b, a]``."""
    found: list[list[str]] = []

    def walk(start: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(path[-1], ())):
            if nxt == start:
                found.append([*path, start])
            elif nxt > start and nxt not in path:
                walk(start, [*path, nxt])

    for node in sorted(graph):
        walk(node, [node])
    return found


def test_core_imports_nothing_outside_core():
    offenders = []
    for path in _sources("reseller/core"):
        for name in _imports(path):
            if name.split(".")[0] in PACKAGES and not _within(name, "reseller.core"):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_wallet_and_whitelabel_import_only_reseller_core():
    """Their web halves included: neither imports a feature, nor the other wing."""
    offenders = []
    for wing in ("wallet", "whitelabel"):
        for path in _sources(wing):
            for name in _imports(path):
                if name.split(".")[0] in PACKAGES and not (
                        _within(name, "reseller.core") or _within(name, wing)):
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_the_wings_web_halves_live_under_their_own_roofs():
    """What ``reseller/billing`` and ``reseller/branding`` served is ``wallet/web`` and
    ``whitelabel/web``; the rule above reads them."""
    assert not (ROOT / "reseller/billing").exists()
    assert not (ROOT / "reseller/branding").exists()
    read = {str(path.relative_to(ROOT)) for path in _sources("wallet", "whitelabel")}
    assert {"wallet/web/__init__.py", "wallet/web/api.py", "wallet/web/console.py",
            "whitelabel/web/__init__.py", "whitelabel/web/api.py",
            "whitelabel/web/listeners.py"} <= read


def test_no_feature_imports_a_wings_web_half():
    """Features call the wings' libraries (``wallet.invoices.invoicing``), never their web
    layer, which the wing's own ``init_app`` wires."""
    offenders = []
    for path in _sources("reseller"):
        for name in _imports(path):
            if _within(name, "wallet.web") or _within(name, "whitelabel.web"):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_only_the_entry_points_import_a_whole_feature():
    """``import reseller.dns``, ``from reseller import dns``, ``from reseller.dns import
    init_app`` (and ``import wallet``) belong in app.py, worker.py and cli.py only."""
    features = _features()
    offenders = []
    for path in _sources(*PACKAGES):
        if str(path.relative_to(ROOT)) in ENTRY_POINTS:
            continue
        own = _module_of(path)
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            whole: list[str] = []
            if isinstance(node, ast.Import):
                whole = [alias.name for alias in node.names if alias.name in features]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                whole = [f"{node.module}.{alias.name}" for alias in node.names
                         if f"{node.module}.{alias.name}" in features]
                if node.module in features and any(a.name == "init_app" for a in node.names):
                    whole.append(node.module)
            offenders += [f"{path.relative_to(ROOT)} imports {name}" for name in whole
                          if not _within(own, name)]
    assert offenders == []


def test_the_rules_see_imports_inside_functions_and_relative_ones():
    source = "def f():\n    from reseller.dns import services\n    from ..domains import names\n"
    assert {"reseller.dns.services", "reseller.domains.names"} <= _imported_names(
        source, "reseller.core")


def _reseller_features() -> set[str]:
    """The features under ``reseller/`` (the wings are libraries the features call: any of
    their modules but ``web`` will do, see the rule above)."""
    return {feature for feature in _features() if feature.startswith("reseller.")}


def test_features_use_each_other_only_through_public_modules():
    """e.g. whmcs → ``reseller.domains.services``, never ``reseller.domains.orders``; the
    console → ``reseller.dns.services``, never ``reseller.dns.ownership``."""
    assert _private_reaches(_reseller_features()) == []


def test_no_two_features_import_each_other_directly_or_around_a_loop():
    """Package level, functions included, the wings counted: DNS reacts to domain events
    instead of domains calling DNS; the registry's CLI runs the domains' poll job by name;
    the wallet's invoice mail is a white-label listener on ``invoice.*`` events."""
    graph = _feature_graph(_features())
    assert "reseller.domains" in graph["reseller.dns"]  # the helpers do see the edges
    assert _cycles(graph) == []


def test_the_feature_rules_see_loops_and_private_modules():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
    source = ("def f():\n    from reseller.domains import names, services\n"
              "    from reseller.domains.records import get_domain\n"
              "    from ..registry import get_registry\n")
    assert _imported_modules_in(source, "reseller.whmcs") == {
        "reseller.domains.names", "reseller.domains.services", "reseller.domains.records",
        "reseller.registry"}


def test_only_core_db_commits():
    offenders = []
    for path in _sources(*PACKAGES):
        if path == ROOT / "reseller/core/db.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "commit"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
