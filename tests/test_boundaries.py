"""The house rules, enforced: who may import what, no import loops, a pure engine, channel names
only in bot/channels/, SQL only in storage/."""

from __future__ import annotations

import ast
import functools
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "storage", "analytics", "scripts")
# A messenger library is imported only by its own channel package.
ALLOWED = {"telegram": "bot/channels/telegram/", "viberbot": "bot/channels/viber/"}
SQL_NAMES = {"select", "insert", "update", "delete", "text"}
CHANNEL_WORDS = ("telegram", "viber", "t.me/")
# Packages that must not name a channel: they ask bot/channels/capabilities.py instead.
CHANNEL_BLIND = (
    "bot/engine/",
    "bot/members/",
    "bot/surveys/",
    "bot/criteria/",
    "bot/staff/",
    "bot/conversation/",
    "bot/delivery/",
    "bot/schedule/",
    "bot/reports/",
    "bot/routes.py",
    "bot/usage/",
    "bot/files/",
    "storage/",
    "analytics/",
)
# The engine and the flows are pure: importing them loads none of these.
PURE_MODULES = (
    "bot.engine",
    "bot.members.menu",
    "bot.members.registration",
    "bot.surveys.flows",
    "bot.criteria.flows",
    "bot.criteria.rendering",
    "bot.staff.flows",
    "bot.staff.forms_flow",
    "bot.staff.permissions",
)
IMPURE = ("sqlalchemy", "pydantic_settings", "telegram", "viberbot", "starlette", "bot.settings")


def python_files() -> list[Path]:
    return [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.cache
def parsed(path: Path) -> ast.Module:
    """A file's syntax tree, parsed once for all the tests here (they only read it)."""
    return ast.parse(path.read_text(encoding="utf-8"))


@functools.cache
def imported_modules(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every absolute import in the file, found once for all the tests
    (callers only read the list)."""
    tree = parsed(path)
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


@pytest.fixture(scope="module", autouse=True)
def _forget_the_trees() -> Iterator[None]:
    """The syntax trees (a quarter of a million objects) go when this module's tests are done,
    not at the end of the run: every full garbage collection after them would walk them."""
    yield
    parsed.cache_clear()
    imported_modules.cache_clear()


def test_messenger_libraries_are_imported_only_by_their_channel() -> None:
    offenders = []
    for path in python_files():
        for module, _ in imported_modules(path):
            top = module.split(".")[0]
            if top in ALLOWED and not relative(path).startswith(ALLOWED[top]):
                offenders.append(f"{relative(path)} imports {module}")
    assert offenders == []


def project_graph() -> dict[str, set[str]]:
    """module -> project modules it imports (anywhere in the file, TYPE_CHECKING included)."""
    files = {module_name(p): p for p in python_files()}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        for module, names in imported_modules(path):
            targets = [f"{module}.{n}" for n in names if f"{module}.{n}" in files]
            if not targets and module in files:
                targets = [module]
            graph[name].update(t for t in targets if t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> Iterator[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(node: str) -> Iterator[list[str]]:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                yield from visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                yield sorted(component)

    for node in sorted(graph):
        if node not in index:
            yield from visit(node)


def test_no_import_loops() -> None:
    sys.setrecursionlimit(10_000)
    assert list(cycles(project_graph())) == []


def test_the_loop_finder_finds_a_loop() -> None:
    assert list(cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})) == [["a", "b", "c"]]


# One fresh interpreter imports the pure modules one after another and prints, after each,
# the impure modules loaded so far (as JSON). An impure module is then in sys.modules from the
# first pure module that loads it on, so a module passes only if it and every module before
# it load none: the same verdict for the set as one interpreter per module, for the start-up
# and the shared imports of one (a process per module was most of this file's time).
_PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
    print(json.dumps(sorted(m for m in sys.modules if m.startswith(IMPURE))), flush=True)
"""


@functools.cache
def impure_loaded() -> dict[str, list[str]]:
    """pure module -> the impure modules in sys.modules once it (and those before it) loaded."""
    script = f"IMPURE = {IMPURE!r}\n{_PROBE}"
    lines = subprocess.run(
        [sys.executable, "-c", script, *PURE_MODULES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return dict(zip(PURE_MODULES, map(json.loads, lines), strict=True))


@pytest.mark.parametrize("module", PURE_MODULES)
def test_the_engine_and_the_flows_load_no_orm_settings_or_messenger(module: str) -> None:
    assert impure_loaded()[module] == []


def docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (prose may name a channel)."""
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            found.add(id(first.value))
    return found


def test_only_bot_channels_names_a_channel() -> None:
    offenders = []
    for path in python_files():
        if not relative(path).startswith(CHANNEL_BLIND):
            continue
        tree = parsed(path)
        prose = docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                value = node.value.lower()
                if id(node) not in prose and any(word in value for word in CHANNEL_WORDS):
                    offenders.append(f"{relative(path)}:{node.lineno}: {node.value!r}")
    assert offenders == []


def test_channels_never_touch_storage_directly() -> None:
    offenders = []
    for path in (ROOT / "bot" / "channels").rglob("*.py"):
        for module, _ in imported_modules(path):
            if module.startswith(("storage.repositories", "storage.models")):
                offenders.append(f"{relative(path)} imports {module}")
    assert offenders == []


def test_sql_is_built_only_in_storage() -> None:
    offenders = []
    for path in python_files():
        if relative(path).startswith(("storage/", "scripts/")):
            continue
        for module, names in imported_modules(path):
            if module.startswith("sqlalchemy") and set(names) & SQL_NAMES:
                offenders.append(f"{relative(path)}: from {module} import {names}")
    assert offenders == []


def test_analytics_knows_no_messenger_and_no_bot_settings() -> None:
    offenders = []
    for path in (ROOT / "analytics").rglob("*.py"):
        for module, _ in imported_modules(path):
            if module.startswith(("bot.channels", "bot.settings", "telegram", "viberbot")):
                offenders.append(f"{relative(path)} imports {module}")
    assert offenders == []


def test_only_the_entry_points_import_the_composition_root() -> None:
    offenders = []
    for path in python_files():
        if relative(path).startswith(("bot/cli/", "bot/app.py", "bot/demo/", "scripts/")):
            continue
        for module, _ in imported_modules(path):
            if module == "bot.app":
                offenders.append(relative(path))
    assert offenders == []
