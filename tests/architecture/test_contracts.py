"""The architecture's contracts: import-linter layers and forbidden imports (pyproject.toml),
no private name used across packages, and a registry whose every hook resolves."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from iom.plugins import INSTALLED, Domain, domains, record_parts, resolve

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
LINT = Path(sys.executable).with_name("lint-imports")


def lint(project: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    return subprocess.run([str(LINT), "--config", str(project / "pyproject.toml"), "--no-cache"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The package and its contracts in a scratch folder, to plant imports in."""
    shutil.copytree(SRC / "iom", tmp_path / "src" / "iom", ignore=shutil.ignore_patterns("__pycache__", "data", "templates"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_contracts_hold():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Contracts: 3 kept, 0 broken." in result.stdout


@pytest.mark.parametrize("module, planted, broken", [
    ("register/service.py", "\n\ndef planted():\n    from iom.web import app  # noqa: F401\n",
     "iom.register is not allowed to import iom.web"),
    ("scoring/routes.py", "\nfrom iom.register.models import Person  # noqa: E402,F401\n",
     "iom.scoring.routes is not allowed to import iom.register.models"),
    ("evaluation/service.py", "\n\ndef planted():\n    import duckdb  # noqa: F401\n",
     "iom.evaluation is not allowed to import duckdb"),
    ("register/service.py", "\n\ndef planted():\n    import pyspark.sql  # noqa: F401\n",
     "iom.register is not allowed to import pyspark"),
], ids=["a domain importing the web shell", "a route reading person tables directly",
        "a measure computed on DuckDB outside the warehouse", "Spark reached outside the warehouse"])
def test_a_planted_forbidden_import_breaks_a_contract(copy, module, planted, broken):
    target = copy / "src/iom" / module
    target.write_text(target.read_text() + planted)
    result = lint(copy)
    assert result.returncode != 0
    assert broken in result.stdout


def test_the_engine_contract_covers_every_module_but_the_warehouse():
    """A new top-level module is named in the contract, so it cannot reach an engine unnoticed."""
    import tomllib

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    engines = next(c for c in contracts if set(c.get("forbidden_modules", ())) >= {"duckdb", "pyspark", "ibis"})
    tops = {f"iom.{p.stem}" for p in (SRC / "iom").iterdir()
            if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()}
    assert set(engines["source_modules"]) == tops - {"iom.warehouse"}


#: Where analytical SQL may be written: the analytical layer, and the migrations (which fill
#: tables once, in the database's own SQL).
ANALYTICAL = ("iom.warehouse", "iom.migrations")
GROUPING_SQL = re.compile(r"\bgroup\s+by\b", re.IGNORECASE)


def analytical_paths(root: Path) -> list[str]:
    """Measures computed outside the analytical layer, as a grep would find them: SQL text that
    aggregates (``GROUP BY`` in a string) and calls of the layer's raw runner (``query_arrow``)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        module = ".".join(path.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__")
        if module.startswith(ANALYTICAL):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and GROUPING_SQL.search(node.value):
                found.append(f"{module}:{node.lineno}: SQL that aggregates")
            elif isinstance(node, (ast.Name, ast.Attribute, ast.alias)) and "query_arrow" in (
                    getattr(node, "id", None), getattr(node, "attr", None), getattr(node, "name", None)):
                found.append(f"{module}:{getattr(node, 'lineno', 0)}: query_arrow")
    return sorted(set(found))


def test_no_measure_is_computed_outside_the_analytical_layer():
    """Beside the engine contract (no engine outside ``iom.warehouse``): no SQL text aggregating
    and no hand-off to the layer's raw runner anywhere else; domains call the layer's functions."""
    assert analytical_paths(SRC / "iom") == []


def test_the_analytical_path_check_can_fail(tmp_path):
    pkg = tmp_path / "iom"
    (pkg / "warehouse").mkdir(parents=True)
    (pkg / "scoring").mkdir()
    (pkg / "warehouse" / "ok.py").write_text('SQL = "SELECT person_id, count(*) FROM t GROUP BY person_id"\n')
    (pkg / "scoring" / "bad.py").write_text(
        "from iom.warehouse.source import query_arrow\n\n"
        'def f(t):\n    return query_arrow("select person_id from t\\n group   by 1", t=t)\n')
    assert analytical_paths(pkg) == ["iom.scoring.bad:1: query_arrow", "iom.scoring.bad:4: SQL that aggregates",
                                     "iom.scoring.bad:4: query_arrow"]


def _top(module: str) -> str:
    return ".".join(module.split(".")[:2])


def private_uses(root: Path) -> list[str]:
    """``from iom.x import _name`` and ``module._name`` where the module is another package's."""
    found = []
    for path in sorted(root.rglob("*.py")):
        module = ".".join(path.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("iom"):
                for name in node.names:
                    if name.name.startswith("_") and _top(node.module) != _top(module):
                        found.append(f"{module}: from {node.module} import {name.name}")
                    aliases[name.asname or name.name] = f"{node.module}.{name.name}"
            elif isinstance(node, ast.Import):
                for name in node.names:
                    if name.name.startswith("iom"):
                        aliases[name.asname or name.name] = name.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                    and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and _top(aliases[node.value.id]) != _top(module)):
                found.append(f"{module}: {node.value.id}.{node.attr}")
    return found


def test_no_private_name_crosses_a_package():
    assert private_uses(SRC / "iom") == []


def test_the_private_name_check_can_fail(tmp_path):
    pkg = tmp_path / "iom"
    (pkg / "a").mkdir(parents=True)
    (pkg / "b").mkdir()
    (pkg / "a" / "x.py").write_text("def _hidden():\n    pass\n")
    (pkg / "b" / "y.py").write_text("from iom.a import x\nfrom iom.a.x import _hidden\n\nx._hidden()\n")
    assert private_uses(pkg) == ["iom.b.y: from iom.a.x import _hidden", "iom.b.y: x._hidden"]


def test_every_installed_domain_declares_itself_and_its_hooks_resolve():
    declared = domains()
    assert [d.package for d in declared] == list(INSTALLED)
    assert all(isinstance(d, Domain) for d in declared)
    for d in declared:
        for target in (*d.cli, *d.routers, *d.timeline, *d.live_timeline, *d.attention, *d.synth_steps,
                       *(t for _, t in d.template_filters), *(t for t in (d.import_kinds, d.reference_tables) if t)):
            assert resolve(target) is not None, target
        if d.templates:
            assert (SRC.joinpath(*d.package.split(".")) / "templates").is_dir(), d.package
    for part in record_parts():
        assert callable(resolve(part.build)) and resolve(part.schema) is not None
