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
    VOWEL_VISEMES,
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
    assert viseme_pose("aa")[j] > 0.4 > viseme_pose("PP")[j]
    assert viseme_pose("aa")[j] == max(pose[j] for pose in VISEME_POSES.values())  # the widest jaw
    # a speaking mouth parts its lips with mouthLowerDown/UpperUp too, and consonants keep the jaw well below vowels
    low, up = ARKIT_INDEX["mouthLowerDownLeft"], ARKIT_INDEX["mouthUpperUpLeft"]
    assert viseme_pose("aa")[low] >= viseme_pose("aa")[j] and viseme_pose("E")[up] > 0.2
    consonants = [v for v in VISEMES if v != "sil" and v not in VOWEL_VISEMES]
    assert max(viseme_pose(v)[j] for v in consonants) < 0.5 * min(viseme_pose(v)[j] for v in ("aa", "E", "O"))
    # mouthPress belongs to the bilabial closure only
    assert all(viseme_pose(v)[ARKIT_INDEX["mouthPressLeft"]] == 0 for v in VISEMES if v != "PP")
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


def test_one_speech_channel_list_drives_visemes_teacher_and_the_speech_region():
    """rigs.arkit.SPEECH_CHANNELS is the list: every viseme channel is in it, the teacher relaxes exactly it, and
    the emotion space's speech region is it minus the emotion region (disjoint, so the lip and emotion losses
    never give one channel two targets)."""
    from facecraft.audio2face.teacher import SPEECH_INDEX
    from facecraft.audio2face.visemes import JAW_CHANNELS, LIP_CHANNELS, TONGUE_CHANNELS
    from facecraft.rigs.arkit import ARKIT_NAMES, SPEECH_CHANNELS
    from facecraft.rigs.emotion_space import region_mask

    assert set(JAW_CHANNELS + LIP_CHANNELS + TONGUE_CHANNELS) <= set(SPEECH_CHANNELS)
    driven = {n for pose in VISEME_POSES.values() for n, w in zip(ARKIT_NAMES, pose, strict=True) if w > 0}
    assert driven <= set(SPEECH_CHANNELS)
    assert sorted(ARKIT_NAMES[i] for i in SPEECH_INDEX) == sorted(SPEECH_CHANNELS)
    speech, emotion = region_mask("speech"), region_mask("emotion")
    assert not (speech & emotion).any()
    assert {n for n, m in zip(ARKIT_NAMES, speech | emotion, strict=True) if m} >= set(SPEECH_CHANNELS)
    assert {n for n, m in zip(ARKIT_NAMES, speech, strict=True) if m} == set(SPEECH_CHANNELS) - {
        "mouthStretchLeft",
        "mouthStretchRight",
    }
