"""Very short clips (a click, a grunt): every mode gives ``ceil(duration * fps)`` frames, or a clear error."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from facecraft.audio2face import animate as an
from facecraft.audio2face.phonetics import Phone
from facecraft.audio2face.teacher import num_frames, teacher_curves
from facecraft.rigs.errors import FileFormatError


def _click(seconds: float, sr: int) -> np.ndarray:
    """A short voiced burst (150 Hz, amplitude-modulated) of ``seconds`` at ``sr`` Hz."""
    t = np.arange(int(round(seconds * sr))) / sr
    return (0.3 * np.sin(2 * np.pi * 150 * t) * (1 + 0.5 * np.sin(2 * np.pi * 5 * t))).astype(np.float32)


@pytest.mark.parametrize(("seconds", "fps"), [(0.08, 30), (0.1, 24), (0.05, 60), (0.12, 60)])
def test_teacher_brows_fit_clips_shorter_than_their_smoothing(seconds, fps):
    # the brows are smoothed over 150 ms: a pitch track shorter than that kernel gave one brow frame too many
    t = num_frames(seconds, fps)
    c = teacher_curves([Phone(0.0, seconds, "AA")], fps=fps, duration=seconds, pitch=np.full(t, 150.0))
    assert c.shape == (t, 52)


@pytest.mark.parametrize(
    ("seconds", "sr", "fps"), [(0.08, 16000, 30), (0.1, 22050, 24), (0.05, 44100, 60), (0.12, 16000, 60)]
)
@pytest.mark.parametrize("mode", ["procedural", "learned"])
def test_short_clip_frames_agree_across_modes(tmp_path, tiny_model_dir, seconds, sr, fps, mode):
    wav = tmp_path / "click.wav"
    sf.write(wav, _click(seconds, sr), sr)
    anim = an.animate_file(wav, tmp_path / "out.npz", mode=mode, fps=fps, weights=tiny_model_dir)
    y, _ = an.load_audio(wav)
    want = num_frames(len(y) / 16000, fps)
    assert anim.num_frames == want
    assert anim.head_rotation.shape == (want, 3) and anim.eye_rotation.shape == (want, 6)


def test_clip_too_short_for_one_frame_names_the_file(tmp_path):
    wav = tmp_path / "tick.wav"
    sf.write(wav, np.full(1, 0.2, np.float32), 44100)  # one sample: none left at 16 kHz
    for mode in ("procedural", "learned"):
        with pytest.raises(FileFormatError, match=r"tick\.wav: the clip is too short"):
            an.animate_file(wav, tmp_path / "out.npz", mode=mode)
