"""MediaPipe's C++ start-up chatter kept off the terminal.

Creating a Face Landmarker and running it the first time print lines such as ``W0000 ...
inference_feedback_manager.cc:121] Feedback manager requires a model with a single signature`` and ``INFO:
Created TensorFlow Lite XNNPACK delegate for CPU`` straight to file descriptor 2, below Python's logging, where
no environment variable of this MediaPipe build silences them; in a folder run they break the progress bar.
:func:`quiet_native_stderr` sends descriptor 2 to a temporary file for the block and writes back every line
that is not such chatter (a real error still reaches the terminal).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator

#: Lines of MediaPipe / TensorFlow Lite start-up chatter (glog prefixes W/I, TFLite's INFO, absl's preamble).
CHATTER = re.compile(rb"^(?:[WI]\d{4} [\d:. ]+\d+ \S+:\d+\]|INFO: Created TensorFlow Lite|WARNING: Logging before)")


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Hold back MediaPipe's native start-up lines written during the block (see the module docstring)."""
    fd = 2  # where native code writes, whatever Python's sys.stderr is
    try:
        saved = os.dup(fd)
    except OSError:  # no descriptor 2 at all
        yield
        return
    sys.stderr.flush()
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), fd)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, fd)
            os.close(saved)
            held.seek(0)
            kept = [line for line in held.read().splitlines(keepends=True) if not CHATTER.match(line)]
            if kept:
                os.write(fd, b"".join(kept))
