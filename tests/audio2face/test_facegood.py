"""FACEGOOD's rig mapped to ARKit: the channel map and its scales, the mask, the one-frame shift, the held-out
score, and the real takes in ../shared."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from facecraft.audio2face import facegood as fg
from facecraft.rigs.arkit import ARKIT_INDEX, ARKIT_NAMES
from facecraft.rigs.errors import FileFormatError, MissingFileError

NAMES = [
    "mouth_stretch_c", "mouth_funnel_ul", "mouth_funnel_ur", "mouth_funnel_dl", "mouth_funnel_dr", "mouth_oh_c",
    "mouth_pucker_l", "mouth_pucker_r", "mouth_oo_c", "mouth_lowerLipDepress_l", "mouth_lowerLipDepress_r",
    "mouth_upperLipRaise_l", "mouth_upperLipRaise_r", "mouth_lipCornerPull_l", "mouth_lipCornerPull_r",
    "mouth_press_l", "mouth_press_r", "mouth_suck_dl", "mouth_suck_dr", "mouth_suck_ul", "mouth_suck_ur",
    "mouth_lipStretch_l", "eye_blink1_l",
]  # fmt: skip


def weights(**values: float) -> np.ndarray:
    w = np.zeros((4, len(NAMES)))
    for k, v in values.items():
        w[:, NAMES.index(k)] = v
    return w


def test_mask_marks_exactly_the_mapped_channels():
    assert fg.MASK.shape == (52,) and fg.MASK.dtype == bool
    assert {ARKIT_NAMES[i] for i in np.flatnonzero(fg.MASK)} == set(fg.SOURCES) == set(fg.SCALES)
    # no real counterpart in the rig: never supervised
    for name in ("mouthClose", "mouthPressLeft", "mouthStretchLeft", "eyeBlinkLeft", "tongueOut"):
        assert not fg.MASK[ARKIT_INDEX[name]]


def test_map_curves_sums_split_shapes_and_scales():
    w = weights(mouth_stretch_c=0.5, mouth_funnel_ul=0.4, mouth_funnel_dl=0.4, mouth_oh_c=0.2,
                mouth_lowerLipDepress_l=0.1, mouth_lipStretch_l=0.9, eye_blink1_l=1.0)  # fmt: skip
    out = fg.map_curves(w, NAMES)
    assert out.shape == (4, 52) and out.dtype == np.float32
    assert out[0, ARKIT_INDEX["jawOpen"]] == pytest.approx(0.5 * fg.SCALES["jawOpen"])
    # the funnel's four parts are averaged (two at 0.4 -> 0.2), then the "O" is added
    assert out[0, ARKIT_INDEX["mouthFunnel"]] == pytest.approx((0.2 + 0.2) * fg.SCALES["mouthFunnel"])
    assert out[0, ARKIT_INDEX["mouthLowerDownLeft"]] == pytest.approx(0.1 * fg.SCALES["mouthLowerDownLeft"])
    assert out[0, ARKIT_INDEX["mouthLowerDownRight"]] == 0.0
    # unmapped sources (lip stretch, blinks) leave every ARKit channel outside the map at 0
    assert np.all(out[:, ~fg.MASK] == 0.0)
    # scales above 1 are clipped into ARKit's range
    assert fg.map_curves(weights(mouth_upperLipRaise_l=1.0), NAMES)[0, ARKIT_INDEX["mouthUpperUpLeft"]] == 1.0


def test_map_curves_rejects_missing_channels_and_shapes():
    with pytest.raises(FileFormatError, match="mouth_stretch_c"):
        fg.map_curves(np.zeros((3, 2)), ["mouth_oh_c", "eye_blink1_l"])
    with pytest.raises(FileFormatError, match="expected"):
        fg.map_curves(np.zeros((3, 5)), NAMES)


def fake_take_dir(tmp_path, jaw: np.ndarray):
    d = tmp_path / "fg"
    d.mkdir()
    (d / fg.NAMES_FILE).write_text("\n".join(NAMES) + "\n")
    w = np.zeros((len(jaw), len(NAMES)))
    w[:, 0] = jaw
    np.save(d / "bs_value_t1.npy", w)
    sf.write(d / "t1.wav", np.zeros(int(len(jaw) / fg.FPS * 16000), np.float32), 16000)
    np.save(d / "bs_value_nowav.npy", w)  # no audio beside it: not a take
    return d


def test_load_take_moves_the_curves_one_frame_earlier(tmp_path):
    jaw = np.zeros(30)
    jaw[10] = 1.0
    d = fake_take_dir(tmp_path, jaw)
    assert fg.is_facegood_dir(d) and not fg.is_facegood_dir(tmp_path)
    assert fg.take_ids(d) == ["t1"]
    moved = fg.load_take(d, "t1")[:, ARKIT_INDEX["jawOpen"]]
    assert moved.shape == (30,) and np.argmax(moved) == 10 - fg.SHIFT_FRAMES
    assert np.argmax(fg.load_take(d, "t1", shift=0)[:, ARKIT_INDEX["jawOpen"]]) == 10
    with pytest.raises(MissingFileError):
        fg.load_take(d, "t9")


@pytest.mark.parametrize(("weights", "problem"), [
    (b"not numpy at all", "not a readable .npy"), (b"", "not a readable .npy"),
    (np.zeros((0, len(NAMES))), "no frames"), (np.zeros((5, 3)), "expected"),
])  # fmt: skip
def test_an_unreadable_weights_file_is_a_file_format_error_naming_it(tmp_path, weights, problem):
    # a broken bs_value file raised numpy's own error (ValueError, EOFError) without the file's name
    d = fake_take_dir(tmp_path, np.zeros(30))
    if isinstance(weights, bytes):
        (d / "bs_value_t1.npy").write_bytes(weights)
    else:
        np.save(d / "bs_value_t1.npy", weights)
    with pytest.raises(FileFormatError, match=rf"bs_value_t1\.npy: .*{problem}"):
        fg.load_take(d, "t1")


def test_score_take_finds_a_lagged_copy_and_ignores_noise():
    rng = np.random.default_rng(0)
    take = np.zeros((300, 52), np.float32)
    take[:, fg.MASK] = rng.random((300, int(fg.MASK.sum())))
    late = np.roll(take, 2, axis=0)  # 67 ms late: inside the 100 ms window
    s = fg.score_take(take, late)
    assert s["jawOpen_r"] > 0.95 and s["mean_r"] > 0.95 and set(s["channels"]) == set(fg.SOURCES)
    noise = fg.score_take(take, rng.random((300, 52)).astype(np.float32))
    assert noise["jawOpen_r"] < 0.3 and noise["mean_r"] < 0.3


def test_real_takes_line_up_with_their_audio(shared_dir):
    """The seven takes map; after the shift the jaw follows the audio's loudness best at lag 0 (the teacher's
    convention), and L/R channels agree."""
    from facecraft.audio2face.audio import load_audio
    from facecraft.rigs.stats import lagged_pearson

    d = shared_dir / "data" / "capture" / "facegood_shirley_zh_maya"
    if not d.is_dir():
        pytest.skip(f"FACEGOOD takes not present at {d}")
    assert len(fg.take_ids(d)) == 7
    take = "1114_2_01"
    curves = fg.load_take(d, take)
    audio, _ = load_audio(d / f"{take}.wav")
    hop = 16000 / fg.FPS
    n = min(len(curves), int(len(audio) / hop))
    rms = np.array([np.sqrt(np.mean(audio[int(i * hop) : int((i + 1) * hop)] ** 2)) for i in range(n)])
    loud = np.log(rms + 1e-3 * np.abs(audio).max())
    r, lag = lagged_pearson(loud, curves[:n, ARKIT_INDEX["jawOpen"]], max_lag=3)
    assert r > 0.7 and lag == 0
    assert np.allclose(curves[:, ARKIT_INDEX["mouthSmileLeft"]], curves[:, ARKIT_INDEX["mouthSmileRight"]])
    assert 0.0 <= curves.min() and curves.max() <= 1.0 and np.all(curves[:, ~fg.MASK] == 0.0)
