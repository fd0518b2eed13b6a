"""The text reader on session 57's held-out misses (phrases4): mood words it could not read, idioms read as other
faces, and qualifiers lost where their expression moves."""

from __future__ import annotations

import pytest

from tests.rigs.text_reading import au, low, top


@pytest.mark.parametrize(
    ("text", "moves", "not_moved"),
    [
        ("giddy", "AU12", "AU4"),  # an error: no expression read
        ("timid", "AU1", "AU4"),  # an error
        ("spooked", "AU5", "AU12"),  # an error
        ("flabbergasted", "AU2", "AU12"),  # an error
        ("starstruck", "AU12", "AU4"),  # an error
        ("seasick", "AU9", "AU12"),  # an error
        ("feverish", "AU43", "AU5"),  # an error
        ("disgruntled", "AU15", "AU12"),  # "did you mean 'disgust'?"
        ("groggy", "AU43", "AU5"),  # a frown, AU4 0.68, no lid lowered
        ("nodding off", "AU43", "AU27"),  # the jaw opened, AU27 0.25
        ("a battle cry", "AU25", "AU15"),  # cried: sad brows and a turned-down mouth
        ("frowning sadly", "AU1", "AU12"),  # the frown alone: sadness's brows were kept out of the frown's region
        ("crying happily", "AU12", "AU5"),  # cried without a smile
        ("pouting sulkily", "AU17", "AU12"),  # "'sulkily' is no word the reader knows; did you mean 'sulky'?"
    ],
)
def test_held_out_misses_read_as_meant(text, moves, not_moved):
    a = au(text)
    assert low(a, moves) > 0.3 and top(a, not_moved) < 0.05, (text, a)


def test_a_qualifier_still_gives_way_where_it_undoes_its_expression():
    a = au("a sad smile")  # sad brows above a smile, not a frown's turned-down corners under it
    assert low(a, "AU12") > 0.6 and low(a, "AU1") > 0.3 and top(a, "AU15") == 0.0
