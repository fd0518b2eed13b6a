"""MediaPipe's native start-up lines are held back; anything else written to stderr still shows."""

from __future__ import annotations

import os

from facecraft.eval.native_log import quiet_native_stderr


def test_chatter_is_held_back_and_other_lines_pass(capfd):
    with quiet_native_stderr():
        os.write(2, b"W0000 00:00:1796431496.452447   26733 inference_feedback_manager.cc:121] Feedback manager\n")
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"WARNING: Logging before InitGoogle() is written to STDERR\n")
        os.write(2, b"E: a real failure\n")
    assert capfd.readouterr().err == "E: a real failure\n"
    os.write(2, b"after\n")  # the descriptor is the terminal's again
    assert capfd.readouterr().err == "after\n"
