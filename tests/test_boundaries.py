"""Import boundaries: messenger libraries only in their adapters; SQL only in storage/."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "storage", "analytics", "scripts")
ALLOWED = {
    "telegram": {"bot/channels/telegram.py"},
    "viberbot": {"bot/channels/viber.py"},
}
SQL_NAMES = {"select", "insert", "update", "delete", "text"}


def python_files() -> list[Path]:
    return [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]


def imported_modules(path: Path) -> list[tuple[str, list[str]]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def test_messenger_libraries_are_imported_only_by_their_adapter() -> None:
    offenders = []
    for path in python_files():
        relative = path.relative_to(ROOT).as_posix()
        for module, _ in imported_modules(path):
            top = module.split(".")[0]
            if top in ALLOWED and relative not in ALLOWED[top]:
                offenders.append(f"{relative} imports {module}")
    assert offenders == []


def test_the_engine_imports_no_channel_code() -> None:
    for path in (ROOT / "bot" / "engine").rglob("*.py"):
        for module, _ in imported_modules(path):
            assert not module.startswith(("bot.channels", "telegram", "viberbot", "starlette"))


def test_sql_is_built_only_in_storage() -> None:
    offenders = []
    for path in python_files():
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith("storage/") or relative.startswith("scripts/"):
            continue
        for module, names in imported_modules(path):
            if module.startswith("sqlalchemy") and set(names) & SQL_NAMES:
                offenders.append(f"{relative}: from {module} import {names}")
    assert offenders == []


def test_analytics_knows_no_messenger() -> None:
    for path in (ROOT / "analytics").rglob("*.py"):
        for module, _ in imported_modules(path):
            assert not module.startswith(("bot.channels", "telegram", "viberbot")), path
