"""Training batches: crops, two emotions per synthetic clip, capture targets, one random stream per kind."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from a2f_helpers import fake_corpus  # noqa: E402

from facecraft.audio2face import train_sampler as ts  # noqa: E402
from facecraft.audio2face.train_data import NEUTRAL, Clip, load_corpus_clips  # noqa: E402
from facecraft.rigs import EMOTIONS  # noqa: E402
from facecraft.rigs.emotion_space import EmotionCode, region_mask  # noqa: E402
from facecraft.rigs.errors import ParameterError  # noqa: E402


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    corpus = fake_corpus(tmp_path_factory.mktemp("c"), n_items=2)
    return load_corpus_clips(corpus, split="train", kind="logmel", fps=30.0, progress=False)


def test_fit_length_crops_or_pads_the_time_axis():
    a = np.arange(5, dtype=np.float32)[:, None]
    assert ts.fit_length(a, 3)[:, 0].tolist() == [0, 1, 2]
    assert ts.fit_length(a, 7)[:, 0].tolist() == [0, 1, 2, 3, 4, 4, 4]  # edge padding
    stack = np.zeros((8, 5, 52), np.float32)
    assert ts.fit_length(stack, 9).shape == (8, 9, 52)  # teacher stacks: time is axis 1


def test_unit_codes_are_the_emotion_space_codes():
    for k, e in enumerate(EMOTIONS):
        assert np.allclose(ts.UNIT_CODES[k].numpy(), EmotionCode.from_emotion(e, 1.0).vector)


def test_batches_pair_one_clip_with_two_emotions(clips):
    assert len(clips) == 2 and clips[0].teacher.shape[0] == len(EMOTIONS)
    s = ts.BatchSampler(clips, frames=12, batch_size=3, seed=0)
    b = s.synthetic(0)
    assert b["features"].shape == (3, 12, 80) and b["target_a"].shape == (3, 12, 52)
    assert b["code_a"].shape == (3, 12, 57) and b["label_b"].shape == (3, 12)
    assert b["label_a"].min() >= 0 and b["label_a"].max() < len(EMOTIONS)
    # same step -> same batch (seeded); another step -> another batch
    assert torch.equal(s.synthetic(0)["code_a"], b["code_a"])
    assert not torch.equal(s.synthetic(1)["code_a"], b["code_a"])
    # targets keep the neutral mouth's timing but add the emotion's channels
    m = torch.from_numpy(region_mask("emotion"))
    assert float((b["target_a"] - b["neutral"])[..., m].abs().sum()) > 0
    # the neutral target is a crop of a clip's neutral teacher row
    neutral_rows = [torch.from_numpy(c.teacher[NEUTRAL].astype(np.float32)) for c in clips]
    row = b["neutral"][0]
    assert any(
        torch.equal(row, full[i : i + 12]) for full in neutral_rows for i in range(len(full) - 11)
    )  # fmt: skip


def test_augmentations_have_their_own_random_streams(clips):
    plain = ts.BatchSampler(clips, frames=10, batch_size=2, seed=0).synthetic(0)
    chan = ts.BatchSampler(clips, frames=10, batch_size=2, seed=0, channel_augment=1.0).synthetic(0)
    assert not torch.equal(plain["features"], chan["features"])
    for key in ("neutral", "code_a", "target_b", "label_a"):  # crops and emotions drawn as without
        assert torch.equal(plain[key], chan[key])
    feats = np.full((40, 80), -5.0, np.float32)
    teacher = np.full((len(EMOTIONS), 40, 52), 0.4, np.float32)
    off = ts.BatchSampler([Clip("x", feats, teacher=teacher)], frames=40, batch_size=2, seed=0).synthetic(0)
    on = ts.BatchSampler([Clip("x", feats, teacher=teacher)], frames=40, batch_size=2, seed=0,
                         pause_augment=1.0).synthetic(0)  # fmt: skip
    assert torch.equal(off["code_a"], on["code_a"])
    assert not torch.equal(off["features"], on["features"])


def test_capture_batches_carry_the_targets_every_clip_has():
    feats = np.random.default_rng(0).normal(size=(30, 80)).astype(np.float32)
    arkit = np.random.default_rng(1).random((30, 52)).astype(np.float32)
    clips = [Clip("a", feats, arkit=arkit, emotion="anger"), Clip("b", feats, arkit=arkit)]
    b = ts.BatchSampler(clips, frames=10, batch_size=4, seed=0).capture(0)
    assert set(b) == {"features", "code", "arkit", "arkit_mask"} and b["arkit"].shape == (4, 10, 52)
    assert torch.equal(b["arkit_mask"], torch.ones(4, 52))  # a take without a mask supervises every channel
    mask = np.arange(52) < 5
    masked = ts.BatchSampler([Clip("m", feats, arkit=arkit, arkit_mask=mask)], frames=10, batch_size=2, seed=0)
    assert torch.equal(masked.capture(0)["arkit_mask"], torch.from_numpy(np.stack([mask, mask])).float())
    codes = {tuple(np.round(c[0].numpy(), 5)) for c in b["code"]}
    assert codes <= {tuple(np.round(EmotionCode.from_emotion("anger").vector, 5)),
                     tuple(np.round(EmotionCode.neutral().vector, 5))}  # fmt: skip
    mixed = [*clips, Clip("c", feats, flame_expression=np.zeros((30, 10), np.float32))]
    drawn = np.random.default_rng([0, 0, 1]).integers(0, len(mixed), 6)  # the capture stream (tag 1)
    assert 2 in drawn and {0, 1} & set(drawn.tolist())  # this seed mixes both kinds of take
    b = ts.BatchSampler(mixed, frames=10, batch_size=6, seed=0).capture(0)
    assert set(b) == {"features", "code"}  # a target only when every crop of the batch has it


def test_no_clips_is_an_error():
    with pytest.raises(ParameterError, match="no clips"):
        ts.BatchSampler([], frames=10, batch_size=2, seed=0)
