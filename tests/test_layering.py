"""Who may import whom: the layering the package layout promises, checked on the source (ast, no imports)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from frs.config import REPO_ROOT


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names; ``from a import b`` gives ``a`` and ``a.b``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _sources(folder: str) -> list[Path]:
    return sorted((REPO_ROOT / folder).rglob("*.py"))


#: (files, forbidden import prefix, why)
RULES = [
    ("frs/gallery/search", "frs.gallery.file.store", "search owns MatrixData; the store produces it"),
    ("frs/gallery/search", "frs.gallery.pgvector", "search is the file galleries' in-memory search"),
    ("frs/gallery/pgvector", "frs.gallery.file", "the backends are independent rooms"),
    ("frs/gallery/file", "frs.gallery.pgvector", "the backends are independent rooms"),
    ("frs/pipeline", "frs.gallery", "the pipeline names packs through frs.packs.info"),
    ("frs/evaluation", "frs.gallery", "evaluation names packs through frs.packs.info"),
    ("frs/packs", "frs.gallery", "packs are below galleries"),
    ("frs/cctv", "frs.api", "the CCTV path is below the adapters: app.py dispatches to it, not the reverse"),
    ("frs/cctv", "frs.cli", "the CCTV path is below the adapters: `frs watch` calls it, not the reverse"),
    ("scripts", "tests", "shared test machinery is in harness/"),
    ("harness", "tests", "the harness serves tests, it does not use them"),
    ("frs", "tests", "the package never imports its tests"),
    ("frs", "harness", "the package never imports development tooling"),
]


@pytest.mark.parametrize(("folder", "forbidden", "why"), RULES, ids=[f"{r[0]}-x-{r[1]}" for r in RULES])
def test_forbidden_imports(folder: str, forbidden: str, why: str) -> None:
    offenders = [
        f"{path.relative_to(REPO_ROOT)} imports {name}"
        for path in _sources(folder)
        for name in sorted(_imports(path))
        if name == forbidden or name.startswith(forbidden + ".")
    ]
    assert not offenders, f"{why}: {offenders}"


def test_export_tooling_and_the_cli_do_not_import_each_other() -> None:
    """The CLI mounts the export command; the export tooling knows nothing of the CLI (its __main__ is just
    `frs models export`)."""
    export = [p for p in _sources("frs/export") if p.name != "__main__.py"]
    assert not [p.name for p in export if any(n.startswith("frs.cli") for n in _imports(p))]
    assert "frs.export.cli" not in _imports(REPO_ROOT / "frs" / "cli" / "model_commands.py")
