"""What a benchmark records about the machine it ran on: timings on a shared CPU depend on its load."""

from __future__ import annotations

import os
import platform


def load_average() -> list[float] | None:
    """The 1-, 5- and 15-minute load averages, rounded to 0.01; None where the platform has none."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def machine_facts() -> dict:
    """CPU kind and count and the load averages now, for a benchmark's JSON."""
    return {
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average": load_average(),
    }
