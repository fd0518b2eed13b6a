"""Required dependencies are exactly what the installed code imports, plus the packages that ship assets."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from facecraft.rigs.assets import _ASSETS

REPO = Path(__file__).resolve().parents[1]
PACKAGE_DIRS = ("facecraft", "rigs", "eval", "synth", "audio2face", "apps")
# Compiled top-level modules that importlib.metadata cannot map to their distribution.
KNOWN_DISTRIBUTIONS = {"dlib": ["dlib-bin"]}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported_top_level_modules() -> set[str]:
    found: set[str] = set()
    for folder in PACKAGE_DIRS:
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    found.update(a.name.split(".")[0] for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m != "facecraft"}


def _names(deps: list[str]) -> dict[str, str]:
    return {_norm(re.split(r"[<>=!~ \[;]", d, maxsplit=1)[0]): d for d in deps}


def _required() -> dict[str, str]:
    return _names(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"])


def _optional() -> dict[str, str]:
    """Extras that code imports only where the optional feature runs (not ``dev``: tests only)."""
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    return {k: v for name, deps in extras.items() if name != "dev" for k, v in _names(deps).items()}


def test_every_imported_package_is_a_required_dependency():
    dists = packages_distributions()
    required = _required() | _optional()
    missing = {}
    for module in sorted(_imported_top_level_modules()):
        names = {_norm(d) for d in dists.get(module, KNOWN_DISTRIBUTIONS.get(module, []))}
        if not names & set(required):
            missing[module] = sorted(names) or ["(not installed)"]
    assert not missing, f"imported but not in pyproject dependencies or an extra: {missing}"


def test_every_required_dependency_is_imported_or_ships_an_asset():
    dists = packages_distributions()
    imported = {_norm(d) for m in _imported_top_level_modules() for d in dists.get(m, KNOWN_DISTRIBUTIONS.get(m, []))}
    asset_dists = {_norm(d) for a in _ASSETS.values() for d in dists.get(a.package, [a.package])}
    # Packages the code needs without importing them by name: protobuf backs mediapipe's proto classes,
    # onnxruntime runs hibari-tts' voice.
    indirect = {"protobuf", "onnxruntime"}
    unused = sorted(set(_required()) - imported - asset_dists - indirect)
    assert not unused, f"required but never imported and shipping no asset (move to an extra): {unused}"
