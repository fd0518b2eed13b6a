"""rigs.machine: the load and CPU facts every benchmark writes."""

from __future__ import annotations

import os

import pytest

from facecraft.rigs.machine import load_average, machine_facts


def test_load_average_is_three_rounded_figures_where_the_os_has_one():
    if not hasattr(os, "getloadavg"):
        pytest.skip("no load average on this platform")
    load = load_average()
    assert len(load) == 3 and all(x >= 0 and round(x, 2) == x for x in load)


def test_no_load_average_reads_none(monkeypatch):
    def fail():
        raise OSError("unavailable")

    monkeypatch.setattr(os, "getloadavg", fail)
    assert load_average() is None
    assert machine_facts()["load_average"] is None
    assert machine_facts()["cpu_count"] == os.cpu_count()
