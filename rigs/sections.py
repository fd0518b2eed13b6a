"""Run a benchmark's sections so that one failing section is reported and the others still run."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

logger = logging.getLogger(__name__)


def run_sections(
    steps: Sequence[tuple[str, Callable[[], object]]],
    report: dict,
    *,
    name: str,
    after_each: Callable[[str, dict[str, float]], None] | None = None,
) -> dict[str, float]:
    """Call each ``(key, fn)`` in order and store ``report[key] = fn()``.

    A section that raises is logged and stored as ``{"status": "failed: <type>: <message>"}``; the next one
    still runs (a benchmark's finished figures are never lost to a later section). ``after_each(key, seconds)``
    runs after every section (e.g. to save partial results).

    Returns
    -------
    dict
        Seconds each section took, rounded to 0.1 s.
    """
    seconds: dict[str, float] = {}
    for key, step in steps:
        t0 = time.perf_counter()
        try:
            report[key] = step()
        except Exception as e:  # noqa: BLE001 - a failing section is reported; the others still run
            logger.exception("%s: section %s failed", name, key)
            report[key] = {"status": f"failed: {type(e).__name__}: {e}"}
        seconds[key] = round(time.perf_counter() - t0, 1)
        logger.info("%s: %s done in %.1f s", name, key, seconds[key])
        if after_each is not None:
            after_each(key, seconds)
    return seconds
