"""The text reader on a mouth kept shut ("a closed mouth smile") and on drooping lids: session 58's faults."""

from __future__ import annotations

import pytest

from facecraft.rigs.expression_text import text_to_edit
from tests.rigs.text_reading import au, low, top


@pytest.mark.parametrize(
    "text",
    [
        "a closed mouth smile",
        "a smile with the mouth shut",
        "tight-lipped smile",  # pressed lips are together (kept AU25 0.06 from its tail)
        "a toothless smile",  # parted, AU25 0.33
        "smiling without showing teeth",
        "lips sealed, smiling",
    ],
)
def test_words_that_keep_the_lips_together_say_so(text):
    face, _, shut = text_to_edit(text)
    a = au(text)
    assert shut and low(a, "AU12") > 0.4, (text, a)
    assert top(a, "AU25") == 0.0 and top(a, "AU26") == 0.0 and top(a, "AU27") == 0.0, (text, a)


@pytest.mark.parametrize("text", ["a big smile", "a smile", "an open mouthed grin", "mouth not closed, smiling"])
def test_a_smile_not_said_shut_is_free_to_part(text):
    assert not text_to_edit(text)[2]


def test_a_shut_mouth_wins_over_a_grins_parted_lips():
    a = au("grinning with her mouth closed")  # the grin's anchors part the lips: AU25 was kept as asked
    assert low(a, "AU12") > 0.4 and top(a, "AU25") == 0.0 and text_to_edit("grinning with her mouth closed")[2]


@pytest.mark.parametrize("text", ["eyes drooping", "droopy eyes", "heavy lidded"])
def test_drooping_lids_are_heavy_not_closing(text):
    a = au(text)  # AU43 0.45 hid nearly all the iris on FRLL calibration photos
    assert 0.15 < low(a, "AU43") < 0.3 and top(a, "AU5") == 0.0, (text, a)
