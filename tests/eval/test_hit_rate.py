"""Emotion hit rate bookkeeping (per emotion, skips, batches) and the shared result helpers."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from facecraft.eval.hit_rate import emotion_hit_rate, emotion_hit_rate_folder
from facecraft.eval.images import EmptyFolderError
from facecraft.eval.results import EmotionJudge, emotion_folders, paired_files, run_guarded, summarize
from facecraft.rigs import EMOTIONS
from facecraft.rigs.errors import FileFormatError, MissingFileError, NoFaceError, ParameterError


class BrightnessJudge:
    """Test judge: the class is the mean grey level in bins of 32; an all-black image "has no face"."""

    name = "brightness"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def predict_proba(self, images) -> np.ndarray:
        self.calls.append(len(images))
        out = np.full((len(images), 8), 0.01, dtype=np.float32)
        for i, im in enumerate(images):
            m = float(np.asarray(im).mean())
            if m == 0:
                raise NoFaceError(f"no face in image with mean {m}")
            out[i, min(int(m // 32), 7)] = 0.93
        return out


def _grey(level: int) -> np.ndarray:
    return np.full((40, 40, 3), level, dtype=np.uint8)


def _level(emotion: str) -> int:
    return EMOTIONS.index(emotion) * 32 + 16


def test_protocol():
    assert isinstance(BrightnessJudge(), EmotionJudge)
    assert not isinstance(object(), EmotionJudge)
    with pytest.raises(ParameterError, match="predict_proba"):
        emotion_hit_rate([_grey(10)], "anger", object())


def test_rates_per_emotion_and_skips():
    judge = BrightnessJudge()
    images = [_grey(_level("happiness")), _grey(_level("happiness")), _grey(_level("sadness")), _grey(0)]
    images += [_grey(_level("fear")), _grey(_level("anger"))]
    targets = ["happy", "happiness", "happiness", "surprise", "fear", "sad"]
    res = emotion_hit_rate(images, targets, judge, batch_size=4)
    assert res.n == 5 and res.judge == "brightness"
    assert res.rate == pytest.approx(3 / 5)
    assert res.per_emotion == {"fear": 1.0, "happiness": pytest.approx(2 / 3), "sadness": 0.0}
    assert res.balanced_rate == pytest.approx((1 + 2 / 3 + 0) / 3)
    assert [s.kind for s in res.skipped] == ["NoFaceError"] and res.skipped[0].item == "#3"
    assert res.confusion.sum() == 5 and res.confusion[EMOTIONS.index("happiness"), EMOTIONS.index("sadness")] == 1
    assert res.predictions == ["happiness", "happiness", "sadness", "fear", "anger"]
    assert res.probabilities.shape == (5, 8)
    # The failing batch of 4 was retried one by one; the last batch of 2 went through at once.
    assert judge.calls == [4, 1, 1, 1, 1, 2]
    d = res.to_dict()
    assert d["labels"] == list(EMOTIONS) and d["n"] == 5


def test_single_target_and_errors():
    res = emotion_hit_rate(np.stack([_grey(_level("surprise"))] * 3), "surprise", BrightnessJudge())
    assert res.rate == 1.0 and res.per_emotion == {"surprise": 1.0} and res.n == 3
    grey_stack = np.stack([_grey(_level("fear"))[..., 0]] * 2)  # (2, 40, 40): two grey crops, not one image
    assert emotion_hit_rate(grey_stack, "fear", BrightnessJudge()).n == 2
    assert emotion_hit_rate(_grey(_level("fear")), "fear", BrightnessJudge()).n == 1
    with pytest.raises(ParameterError, match="one per image"):
        emotion_hit_rate([_grey(1), _grey(2)], ["anger"], BrightnessJudge())
    with pytest.raises(ParameterError, match="unknown emotion"):
        emotion_hit_rate([_grey(1)], ["bored"], BrightnessJudge())
    with pytest.raises(ParameterError, match="at least one"):
        emotion_hit_rate([], "anger", BrightnessJudge())

    class BadJudge(BrightnessJudge):
        def predict_proba(self, images):
            return np.zeros((len(images), 7))

    with pytest.raises(ParameterError, match=r"\(1, 8\)"):
        emotion_hit_rate([_grey(1)], "anger", BadJudge())


def test_folder_mode(tmp_path):
    for folder, levels in {
        "happy": [_level("happiness")] * 2 + [_level("neutral")],
        "Sad": [_level("sadness")],
    }.items():
        (tmp_path / folder).mkdir()
        for i, lv in enumerate(levels):
            Image.fromarray(_grey(lv)).save(tmp_path / folder / f"{i}.png")
    (tmp_path / "happy" / "broken.png").write_bytes(b"junk")
    Image.fromarray(_grey(0)).save(tmp_path / "Sad" / "black.png")
    (tmp_path / "notes").mkdir()  # not an emotion: ignored
    (tmp_path / "fear").mkdir()  # empty emotion folder: fine
    res = emotion_hit_rate_folder(tmp_path, BrightnessJudge())
    assert res.n == 4 and res.per_emotion == {"happiness": pytest.approx(2 / 3), "sadness": 1.0}
    kinds = {s.item.split("/")[-1]: s.kind for s in res.skipped}
    assert kinds == {"broken.png": "FileFormatError", "black.png": "NoFaceError"}
    assert "black.png" in next(s.reason for s in res.skipped if s.kind == "NoFaceError")
    with pytest.raises(EmptyFolderError, match="emotion"):
        emotion_hit_rate_folder(tmp_path / "notes", BrightnessJudge())
    with pytest.raises(MissingFileError):
        emotion_hit_rate_folder(tmp_path / "absent", BrightnessJudge())


def test_result_helpers(tmp_path):
    s = summarize([1.0, 2.0, 3.0, 4.0])
    assert s["n"] == 4 and s["mean"] == 2.5 and s["median"] == 2.5 and s["min"] == 1 and s["max"] == 4
    assert summarize([])["n"] == 0 and np.isnan(summarize([])["mean"])

    def work(x: int) -> int:
        if x == 2:
            raise FileFormatError("item 2 is corrupt")
        if x == 3:
            raise RuntimeError("a real bug")
        return x * 10

    done, skipped = run_guarded([0, 1, 2], work)
    assert done == [(0, 0), (1, 10)] and skipped[0].kind == "FileFormatError" and skipped[0].item == "2"
    with pytest.raises(RuntimeError):
        run_guarded([3], work)  # bugs are not swallowed
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    for p in (a / "x.png", a / "y.png", b / "x.jpg", b / "z.png"):
        p.write_bytes(b"x")
    pairs, unmatched = paired_files(a, b)
    assert [(p.name, q.name) for p, q in pairs] == [("x.png", "x.jpg")]
    assert sorted(u.item.split("/")[-1] for u in unmatched) == ["y.png", "z.png"]
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "w.png").write_bytes(b"x")
    with pytest.raises(EmptyFolderError, match="same-named"):
        paired_files(a, tmp_path / "c")
    (tmp_path / "happy").mkdir()
    (tmp_path / "happy" / "1.png").write_bytes(b"x")
    assert [(p.name, e) for p, e in emotion_folders(tmp_path)] == [("1.png", "happiness")]


def test_one_image_file_or_pil_image_is_one_image(tmp_path):
    # a single path was iterated as its characters (44 skips of '/', 'w', ...: rate nan); a PIL image was refused
    path = tmp_path / "face.png"
    Image.fromarray(_grey(_level("happiness"))).save(path)
    for given in (str(path), path, Image.open(path)):
        result = emotion_hit_rate(given, "happiness", BrightnessJudge())
        assert result.n == 1 and result.rate == 1.0 and not result.skipped, given
