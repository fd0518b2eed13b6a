"""Head motion from loudness: nods that beat to one side and stay there until they settle."""

import numpy as np

from facecraft.audio2face.head_motion import NOD_ROLL_DEG, head_motion


def test_a_nod_keeps_its_side_beat_across_whole_seconds():
    """The side of a nod's roll and yaw beat was drawn per second and used as drawn: mid-nod, at a whole second,
    the head's roll jumped by up to twice the beat (1-1.5 degrees in one frame on every line)."""
    fps = 30.0
    t = np.arange(int(8 * fps)) / fps
    loudness = np.clip(0.55 + 0.45 * np.sin(2 * np.pi * 3.7 * t), 0.0, 1.0)  # syllables running through the seconds
    for seed in range(6):
        head = head_motion(loudness, fps=fps, seed=seed)
        steps = np.abs(np.diff(head, axis=0))
        assert steps[:, 2].max() < 0.5 * NOD_ROLL_DEG, seed  # roll
        assert steps[:, 0].max() < 0.5, seed  # yaw (its beat is as large)
        assert np.ptp(head[:, 2]) > 0.3  # the roll still moves
