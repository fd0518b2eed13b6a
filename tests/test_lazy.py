"""facecraft.lazy: a subpackage's public names import on first use and stay afterwards."""

import pytest

from facecraft.lazy import lazy_exports


def test_a_name_loads_on_first_use_and_is_kept():
    namespace: dict = {}
    getattr_, dir_ = lazy_exports("facecraft.rigs", {"ARKIT_NAMES": "arkit"}, namespace)
    from facecraft.rigs.arkit import ARKIT_NAMES

    assert "ARKIT_NAMES" in dir_() and "ARKIT_NAMES" not in namespace
    assert getattr_("ARKIT_NAMES") is ARKIT_NAMES
    assert namespace["ARKIT_NAMES"] is ARKIT_NAMES


def test_an_unknown_name_names_the_package():
    getattr_, _ = lazy_exports("facecraft.rigs", {}, {})
    with pytest.raises(AttributeError, match="'facecraft.rigs' has no attribute 'nope'"):
        getattr_("nope")
