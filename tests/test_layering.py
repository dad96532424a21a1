"""Which module may import what: domain code stays free of the API package."""

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_domain_errors_and_money_do_not_import_drf():
    code = (
        "import sys, config.errors, config.money; "
        "bad = sorted(m for m in sys.modules if m.startswith(('rest_framework', 'config.api'))); "
        "assert not bad, bad"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_the_api_keeps_the_domain_errors_importable_by_their_old_names():
    import config.api.errors as api_errors
    import config.errors as errors

    for name in ("WaybillError", "InvalidInput", "NotFound", "Conflict", "Unprocessable"):
        assert getattr(api_errors, name) is getattr(errors, name)


# --- what the domain modules import, and how long their functions are ----------------------

APPS = ("accounts", "orders", "carriers", "routing", "tracking", "finance", "webhooks", "config")
API_PACKAGES = ("rest_framework", "drf_spectacular", *(f"{app}.api" for app in APPS))

# Imports of the API package a domain module keeps on purpose: (module path, imported module).
API_IMPORTS_ALLOWED = {
    ("orders/pos.py", "orders.api.serializers"): (
        "a POS answers with an Order API document; its one validator is the API's serializer"
    ),
    ("orders/management/commands/load_demo.py", "orders.api.serializers"): (
        "demo orders go in as a client sends them, through the Order API's validator"
    ),
}

MAX_FUNCTION_LINES = 60
# Functions allowed to run longer, with why: (module path, function name) -> reason.
# Stale entries fail the test too.
LONG_FUNCTIONS_ALLOWED: dict[tuple[str, str], str] = {}


def _domain_modules() -> list[Path]:
    """Every module of the apps outside the API layer: not in an ``api/`` package, not the
    URL configuration, not an admin, not tests or migrations."""
    modules = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT)
            folders = relative.parts[:-1]
            if {"api", "migrations", "tests"} & set(folders) or path.name == "admin.py":
                continue
            if relative.as_posix() == "config/urls.py":
                continue
            modules.append(path)
    return modules


def _imported_modules(path: Path, tree: ast.AST) -> list[tuple[int, str]]:
    """Every module an ``import`` names (at any depth, relative ones resolved), with the
    names a ``from`` import takes, since those may be modules too."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package[: len(package) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.append((node.lineno, base))
            found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
    return found


def _is_api(module: str) -> bool:
    return any(module == package or module.startswith(f"{package}.") for package in API_PACKAGES)


def test_domain_modules_do_not_import_drf_or_the_api_package():
    offenders, used = [], set()
    for path in _domain_modules():
        relative = path.relative_to(ROOT).as_posix()
        seen = set()
        for line, module in _imported_modules(path, ast.parse(path.read_text())):
            if not _is_api(module) or (relative, line) in seen:
                continue
            seen.add((relative, line))
            allowed = next(
                (key for key in API_IMPORTS_ALLOWED if key[0] == relative and key[1] == module),
                None,
            )
            if allowed:
                used.add(allowed)
            else:
                offenders.append(f"{relative}:{line} imports {module}")
    assert not offenders, "Domain code imports the API layer:\n" + "\n".join(offenders)
    assert used == set(API_IMPORTS_ALLOWED), f"Allowed but gone: {set(API_IMPORTS_ALLOWED) - used}"


def test_no_domain_function_runs_over_sixty_lines_without_a_reason():
    too_long, used = [], set()
    for path in _domain_modules():
        relative = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            lines = node.end_lineno - node.lineno + 1  # from ``def``, docstring included
            if lines <= MAX_FUNCTION_LINES:
                continue
            if (relative, node.name) in LONG_FUNCTIONS_ALLOWED:
                used.add((relative, node.name))
            else:
                too_long.append(f"{relative}::{node.name} ({lines} lines)")
    assert not too_long, "Split these into named steps:\n" + "\n".join(too_long)
    assert used == set(LONG_FUNCTIONS_ALLOWED), "Allowed but no longer long: " + str(
        set(LONG_FUNCTIONS_ALLOWED) - used
    )
