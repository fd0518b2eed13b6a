"""Public names of a subpackage loaded on first use (PEP 562): importing the package stays cheap, and a part that
needs only light code does not pull in torch, MediaPipe or diffusers."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str], namespace: dict) -> tuple[Callable, Callable]:
    """``(__getattr__, __dir__)`` for ``package``: name ``n`` in ``exports`` is ``package.<exports[n]>.n``,
    imported at its first use and kept in ``namespace`` (the package's globals) afterwards."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
