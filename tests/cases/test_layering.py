"""One direction of dependency (STYLE.md): ``api`` imports the domain, never the reverse;
``ruptures`` may import ``cases``, never the reverse; neither knows DRF."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    """Top-level package of every module ``path`` imports, at any depth of the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("cases", {"rest_framework", "api", "ruptures"}),
        ("ruptures", {"rest_framework", "api"}),
    ],
)
def test_domain_packages_import_nothing_above_them(package, forbidden):
    sources = _sources(package)
    assert len(sources) > 5, f"no sources found under {ROOT / package}"
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & forbidden)
        for path in sources
        if _imports(path) & forbidden
    }
    assert offenders == {}


def test_ruptures_does_import_cases():
    """The scan sees real imports: ruptures is built on cases."""
    assert any("cases" in _imports(path) for path in _sources("ruptures"))
