"""Migrations are self-contained: they import nothing from the app, whose code moves on."""
from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"
NAMES = ["Zoé Dupont", "Émile Zola", "Jean-Paul Sartre", "Ёлкин Пётр", "Щукина А.",
         "Müller-Lüdenscheidt", "Straße", "J.-P. S.", "", "ÆSIR Øst"]


def _imports_petition(node: ast.AST) -> bool:
    if isinstance(node, ast.Import):
        modules = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.level == 0:
        modules = [node.module or ""]
    else:
        return False
    return any(module == "petition" or module.startswith("petition.") for module in modules)


def _migration(stem: str):
    spec = importlib.util.spec_from_file_location(f"_frozen_{stem}", VERSIONS / f"{stem}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_migration_imports_petition():
    """Fail if any migration imports petition, at top level or inside a function."""
    offenders = [
        f"{path.name}:{node.lineno}"
        for path in sorted(VERSIONS.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        if _imports_petition(node)
    ]
    assert offenders == []


@pytest.mark.parametrize("stem", ["0002_collation_key", "0003_public_ids_versions",
                                  "0007_encrypt_hidden_names"])
def test_frozen_collation_key_matches_the_app(stem):
    """Check the frozen stored_key gives the app's bytes for Latin, Cyrillic and accents."""
    from petition.collation import stored_key

    frozen = _migration(stem).stored_key
    assert [frozen(name) for name in NAMES] == [stored_key(name) for name in NAMES]
