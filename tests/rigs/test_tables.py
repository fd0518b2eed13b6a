import numpy as np
import pytest

from facecraft.rigs import (
    ARKIT_NAMES,
    AU_TO_ARKIT,
    EMFACS_PROTOTYPES,
    EMOTIONS,
    ParameterError,
    arkit_to_au,
    au_dict,
    au_to_arkit,
    au_vector,
    canonical_arkit_name,
    emotion_au_vector,
    livelink_name,
    mirror_curves,
    mirror_name,
    normalize_emotion,
    valid_curves,
)


def test_arkit_order_and_count():
    assert len(ARKIT_NAMES) == 52 == len(set(ARKIT_NAMES))
    assert ARKIT_NAMES[0] == "eyeBlinkLeft" and ARKIT_NAMES[17] == "jawOpen" and ARKIT_NAMES[-1] == "tongueOut"


@pytest.mark.parametrize(
    "alias,expected",
    [("eyeBlink_L", "eyeBlinkLeft"), ("EyeBlinkLeft", "eyeBlinkLeft"), ("MOUTHSMILE_R", "mouthSmileRight"),
     ("jaw_open", "jawOpen"), ("browInnerUp", "browInnerUp")],
)  # fmt: skip
def test_aliases(alias, expected):
    assert canonical_arkit_name(alias) == expected


def test_unknown_name_lists_valid_names():
    with pytest.raises(ParameterError, match="unknown ARKit blendshape name 'smile'.*eyeBlinkLeft"):
        canonical_arkit_name("smile")
    assert canonical_arkit_name("smile", strict=False) is None


def test_livelink_and_mirror():
    assert livelink_name("eyeBlinkLeft") == "EyeBlinkLeft"
    assert mirror_name("mouthSmileLeft") == "mouthSmileRight"
    assert mirror_name("jawLeft") == "jawRight" and mirror_name("jawOpen") == "jawOpen"
    c = np.zeros((3, 52), np.float32)
    c[:, 0] = 1
    assert mirror_curves(c)[:, 7].sum() == 3 and mirror_curves(mirror_curves(c)).tolist() == c.tolist()


def test_valid_curves_rejects_bad_shapes():
    with pytest.raises(ParameterError, match=r"expected shape \(T, 52\)"):
        valid_curves(np.zeros((4, 51)))
    with pytest.raises(ParameterError, match="NaN"):
        valid_curves(np.full((2, 52), np.nan))
    with pytest.raises(ParameterError, match=r"\[0, 1\]"):
        valid_curves(np.full((2, 52), 2.0))


def test_au_parsing_and_sides():
    v = au_vector({"AU12": 0.8, "au14r": 0.5})
    assert au_dict(v) == pytest.approx({"AU12": 0.8, "AU14R": 0.5})
    with pytest.raises(ParameterError, match="unknown Action Unit 'AU99'"):
        au_vector({"AU99": 1})
    with pytest.raises(ParameterError, match=r"\[0, 1\]"):
        au_vector({"AU1": 1.5})


def test_au_to_arkit_sides_and_inverse():
    smile_right = au_to_arkit(au_vector({"AU12R": 1.0}))
    assert smile_right[ARKIT_NAMES.index("mouthSmileRight")] == 1.0
    assert smile_right[ARKIT_NAMES.index("mouthSmileLeft")] == 0.0
    assert au_to_arkit(au_vector({"AU1": 1.0}))[ARKIT_NAMES.index("browInnerUp")] == pytest.approx(1.0)
    assert AU_TO_ARKIT.shape == (52, 50)
    # Round trip of a mixed expression: ARKit weights reproduce through the inverse.
    au = emotion_au_vector("fear", 0.7)
    back = au_to_arkit(arkit_to_au(au_to_arkit(au)))
    assert np.abs(back - au_to_arkit(au)).max() < 0.02


def test_emotions_and_prototypes():
    assert EMOTIONS == ("anger", "contempt", "disgust", "fear", "happiness", "neutral", "sadness", "surprise")
    assert set(EMFACS_PROTOTYPES) == set(EMOTIONS)
    assert normalize_emotion("Happy") == "happiness" and normalize_emotion("angry") == "anger"
    with pytest.raises(ParameterError, match="unknown emotion label 'bored'"):
        normalize_emotion("bored")
    contempt = au_dict(emotion_au_vector("contempt"))
    assert set(contempt) == {"AU12R", "AU14R"}
    assert emotion_au_vector("neutral").sum() == 0
    assert au_dict(emotion_au_vector("happiness", 0.5))["AU12"] == pytest.approx(0.5)


def test_emfacs_alternatives_are_other_valid_patterns_of_the_emotion():
    from facecraft.rigs.emotions import EMFACS_ALTERNATIVES

    assert set(EMFACS_ALTERNATIVES) <= set(EMOTIONS) - {"neutral"}
    for emotion, patterns in EMFACS_ALTERNATIVES.items():
        for pattern in patterns:
            assert pattern != EMFACS_PROTOTYPES[emotion]
            assert all(0.0 < v <= 1.0 for v in pattern.values())
            assert au_dict(au_vector(pattern)).keys() == pattern.keys()  # every name is a known (sided) AU
