"""Phone -> viseme -> ARKit / Rhubarb tables."""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.audio2face.phonetics import Phone
from facecraft.audio2face.visemes import (
    ARPABET,
    RHUBARB_SHAPES,
    VISEME_DOMINANCE,
    VISEME_POSES,
    VISEME_TO_RHUBARB,
    VISEMES,
    mouth_cues,
    normalize_phone,
    phone_to_viseme,
    phone_visemes,
    viseme_pose,
)
from facecraft.rigs import ARKIT_INDEX, ParameterError


def test_tables_are_complete():
    assert len(ARPABET) == 40  # 39 CMUdict phones + SIL
    assert set(VISEME_POSES) == set(VISEMES) == set(VISEME_DOMINANCE) == set(VISEME_TO_RHUBARB)
    assert set(VISEME_TO_RHUBARB.values()) == set(RHUBARB_SHAPES)  # every Rhubarb shape is used
    for pose in VISEME_POSES.values():
        assert pose.shape == (52,) and pose.min() >= 0 and pose.max() <= 1
    assert not VISEME_POSES["sil"].any()


def test_poses_match_articulation():
    j = ARKIT_INDEX["jawOpen"]
    assert viseme_pose("aa")[j] > 0.5 > viseme_pose("PP")[j]
    pp = viseme_pose("PP")
    assert pp[ARKIT_INDEX["mouthClose"]] == pytest.approx(pp[j])  # ARKit's sealed lips
    assert viseme_pose("U")[ARKIT_INDEX["mouthPucker"]] > 0.5
    assert viseme_pose("FF")[ARKIT_INDEX["mouthRollLower"]] > 0.3
    assert viseme_pose("TH")[ARKIT_INDEX["tongueOut"]] > 0.3
    assert VISEME_DOMINANCE["U"].lips_before > VISEME_DOMINANCE["U"].before  # rounding is anticipated


def test_phone_mapping():
    assert phone_to_viseme("M") == phone_to_viseme("b") == "PP"
    assert phone_to_viseme("AA1") == "aa"
    assert normalize_phone("+NSN+") == normalize_phone("<sil>") == "SIL"
    with pytest.raises(ParameterError, match="ARPAbet"):
        phone_to_viseme("XX")
    with pytest.raises(ParameterError, match="viseme"):
        viseme_pose("zz")


def test_diphthongs_split_and_cues_merge():
    phones = [Phone(0, 0.1, "SIL"), Phone(0.1, 0.3, "AY"), Phone(0.3, 0.4, "M"), Phone(0.4, 0.5, "B"),
              Phone(0.5, 0.52, "T"), Phone(0.52, 0.7, "UW"), Phone(0.7, 1.0, "SIL")]  # fmt: skip
    segs = phone_visemes(phones)
    assert [s["viseme"] for s in segs[1:3]] == ["aa", "I"]
    assert segs[1]["end"] == pytest.approx(0.22)
    cues = mouth_cues(phones)
    values = [c["value"] for c in cues]
    assert values[0] == "X" and values[-1] == "X"
    assert values.count("A") == 2  # two bilabials stay separate closures
    assert "F" in values  # UW is puckered
    starts = np.array([c["start"] for c in cues])
    assert np.all(np.diff(starts) > 0)
    assert all(c["end"] > c["start"] for c in cues)
    assert cues[-1]["end"] == 1.0
