"""A CSV written by ``facecraft animate`` and the real iPhone take parse the same in readers made for the app's files.

Two readers that share no code with :mod:`facecraft.rigs.exchange.livelink`:

* ``read_like_unreal`` follows the rules of Epic's Live Link Face importer for Unreal
  (``LiveLinkFaceImporterFactory``): the header's first two names are exactly ``Timecode`` and
  ``BlendShapeCount``, every other header name is a property, each row has exactly the header's number of
  fields, timecodes are ``hh:mm:ss:frame.zzz`` split on ``:``, the rate is inferred as 60 when a frame field
  exceeds 30 and 30 otherwise (the file states no rate), and a sample's time is
  ``h*3600 + m*60 + s + frame / rate``;
* pandas' ``read_csv`` with the app's column names, as a data-science script reads a take.

Both must see the same layout in facecraft's file as in the iPhone's: rate, timecode form, columns, column
types, number format. Head-rotation ranges of facecraft's speech-driven motion are set beside the take's.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

TAKE = "data/capture/neurosync_trainer_lite_testset"
CELL = re.compile(r"-?\d+\.\d{10}")  # the app writes every value with ten decimals
TIMECODE = re.compile(r"\d{2}:\d{2}:\d{2}:\d{2}\.\d{3}")


def read_like_unreal(text: str) -> dict:
    """Parse Live Link Face CSV text by the Unreal importer's rules (see the module docstring)."""
    lines = [ln for ln in text.splitlines() if ln]
    assert len(lines) >= 2, "an importable file has a header and at least one row"
    keys = lines[0].split(",")
    assert len(keys) >= 3 and keys[0] == "Timecode" and keys[1] == "BlendShapeCount", keys[:2]
    rows = [ln.split(",") for ln in lines[1:]]
    bad = [i for i, r in enumerate(rows, 2) if len(r) != len(keys)]
    assert not bad, f"rows with a field count other than the header's: lines {bad[:5]}"
    clock = []
    for r in rows:
        parts = r[0].split(":")
        assert len(parts) == 4, f"malformed timecode {r[0]!r}"
        clock.append((int(parts[0]), int(parts[1]), int(parts[2]), float(parts[3])))
    rate = 60 if any(c[3] > 30.0 for c in clock) else 30
    times = np.array([h * 3600 + m * 60 + s + f / rate for h, m, s, f in clock])
    return {
        "rate": rate,
        "names": keys[2:],
        "times": times - times[0],
        "counts": {r[1] for r in rows},
        "values": np.array([[float(x) for x in r[2:]] for r in rows]),
        "cells": [x for r in rows for x in r[2:]],
        "timecodes": [r[0] for r in rows],
    }


@pytest.fixture(scope="module")
def take_and_facecraft(shared_dir, tmp_path_factory):
    """The iPhone take's CSV text and ``facecraft animate``'s CSV (default rate) of the take's own audio."""
    from facecraft.audio2face.animate import animate_file

    folder = shared_dir / TAKE
    if not (folder / "curves_llf.csv").exists():
        pytest.skip(f"{folder} absent")
    out = tmp_path_factory.mktemp("interop") / "facecraft.csv"
    animate_file(folder / "audio_16k.wav", out)
    return (folder / "curves_llf.csv").read_text(), out.read_text(), out


def test_unreal_rules_parse_both_files_the_same(take_and_facecraft):
    take_text, ours_text, _ = take_and_facecraft
    take, ours = read_like_unreal(take_text), read_like_unreal(ours_text)
    assert ours["names"] == take["names"] and len(take["names"]) == 61
    assert take["counts"] == ours["counts"] == {"61"}
    assert take["rate"] == ours["rate"] == 60
    for d in (take, ours):
        steps = np.diff(d["times"])
        assert np.all(steps > 0) and np.median(steps) == pytest.approx(1 / 60, rel=0.01)
        assert all(TIMECODE.fullmatch(t) for t in d["timecodes"])
        assert all(CELL.fullmatch(c) for c in d["cells"])
        assert "-0.0000000000" not in d["cells"]
        blend = d["values"][:, :52]
        assert blend.min() >= 0.0 and blend.max() <= 1.0
        assert np.abs(d["values"][:, 52:]).max() < np.pi / 2  # rotations in radians
    # the clip is the take's audio (20.38 s); the phone stopped 60 ms before its end (take README)
    assert ours["times"][-1] == pytest.approx(take["times"][-1], abs=0.1)


def test_unreal_rules_and_facecraft_reader_agree_on_facecraft_file(take_and_facecraft):
    from facecraft.rigs import ARKIT_NAMES
    from facecraft.rigs.exchange import read_livelink_csv

    _, ours_text, path = take_and_facecraft
    unreal, mine = read_like_unreal(ours_text), read_livelink_csv(path)
    assert mine["fps"] == unreal["rate"]
    order = [n[0].lower() + n[1:] for n in unreal["names"][:52]]
    assert sorted(order) == sorted(ARKIT_NAMES)
    for j, name in enumerate(order):
        assert mine["curves"][:, ARKIT_NAMES.index(name)] == pytest.approx(unreal["values"][:, j], abs=1e-9)
    yaw_pitch_roll = unreal["values"][:, 52:55]
    assert mine["head_rotation"][:, 1] == pytest.approx(np.rad2deg(yaw_pitch_roll[:, 1]), abs=1e-6)


def test_pandas_reads_both_with_the_same_columns_and_types(take_and_facecraft):
    pd = pytest.importorskip("pandas")
    import io

    take_text, ours_text, _ = take_and_facecraft
    take, ours = pd.read_csv(io.StringIO(take_text)), pd.read_csv(io.StringIO(ours_text))
    assert list(ours.columns) == list(take.columns)
    assert dict(ours.dtypes.astype(str)) == dict(take.dtypes.astype(str))
    assert str(take.dtypes["Timecode"]) in ("object", "str", "string") and str(take.dtypes["JawOpen"]) == "float64"
    assert not ours.isna().any().any() and not take.isna().any().any()


def test_head_rotation_ranges_beside_the_take(take_and_facecraft):
    """facecraft's speech-driven head moves on every axis, within a factor of 4 of the real take's span."""
    take_text, ours_text, _ = take_and_facecraft
    take, ours = read_like_unreal(take_text), read_like_unreal(ours_text)
    idx = [take["names"].index(n) for n in ("HeadYaw", "HeadPitch", "HeadRoll")]
    span = lambda v: np.rad2deg(np.percentile(v, 95, axis=0) - np.percentile(v, 5, axis=0))  # noqa: E731
    take_span, ours_span = span(take["values"][:, idx]), span(ours["values"][:, idx])
    assert np.all(ours_span > 0.5), ours_span
    ratio = ours_span / take_span
    assert np.all((ratio > 0.25) & (ratio < 4.0)), f"spans deg: facecraft {ours_span}, take {take_span}"
