"""Dependencies point inward: the text and routing core never import the database or the web, nothing imports web/cli.

Walks the imports of every module with `ast`, so a violation fails here rather than in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "xinfang"
FORBIDDEN_IN_CORE = (
    "sqlalchemy",
    "fastapi",
    "starlette",
    "alembic",
    "xinfang.store",
    "xinfang.web",
    "xinfang.cases",
    "xinfang.cli",
    "xinfang.org",
    "xinfang.security",
    "xinfang.intake",
)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


def test_the_text_and_routing_core_stays_pure() -> None:
    bad = [
        f"{p.relative_to(SRC)} imports {name}"
        for pkg in ("text", "routing")
        for p in _modules(pkg)
        for name in _imports(p)
        if name.startswith(FORBIDDEN_IN_CORE)
    ]
    assert bad == []


def test_nothing_imports_the_web_or_cli_layers() -> None:
    bad = [
        f"{p.relative_to(SRC)} imports {name}"
        for p in SRC.rglob("*.py")
        if p.relative_to(SRC).parts[0] not in ("web", "cli")
        for name in _imports(p)
        if name.startswith(("xinfang.web", "xinfang.cli"))
    ]
    assert bad == []


def test_the_domain_does_not_reach_out_to_integrations() -> None:
    bad = [
        f"{p.relative_to(SRC)} imports {name}"
        for p in _modules("cases")
        for name in _imports(p)
        if name.startswith(("xinfang.integrations", "xinfang.analytics"))
    ]
    assert bad == []
