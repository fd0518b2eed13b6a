"""What a benchmark records about the machine it ran on (timings on a shared CPU depend on its load), and the
project's worker processes (:func:`spawn_pool`)."""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Iterator
from contextlib import contextmanager


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


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the ``with`` body on ``n`` torch intra-op threads, then give back the count there was (small model
    windows on one thread: a second one only adds waiting on a busy machine)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def exit_with_parent(poll_seconds: float = 1.0) -> None:
    """In a pool's worker process: end it when the process that started it is gone.

    A parent killed outright (SIGKILL, the OOM killer, a CI timeout) cannot shut its process pool down, and Python's
    pool workers then wait on their task queue forever: a killed ``facecraft augment --workers 2`` left two workers of
    half a gigabyte each running. A daemon thread here notices the parent change and exits the process.
    """
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def spawn_pool(workers: int, *, initializer: Callable[..., object] | None = None, initargs: tuple = ()):
    """The project's process pool: ``workers`` processes started by spawn, not fork (torch and MediaPipe hold threads,
    which a fork copies half-made), each ending with its parent (:func:`exit_with_parent`) before it runs
    ``initializer(*initargs)`` (a module-level function: it is pickled)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(initializer, initargs),
    )


def _start_worker(initializer: Callable[..., object] | None, initargs: tuple) -> None:
    exit_with_parent()
    if initializer is not None:
        initializer(*initargs)
