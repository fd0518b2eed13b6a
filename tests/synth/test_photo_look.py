from __future__ import annotations

import numpy as np
import pytest

from facecraft.rigs.errors import ParameterError
from facecraft.synth.controls import EditControls
from facecraft.synth.editor import AnalyzedFace, render_rig_change
from facecraft.synth.photo_blur import photo_blur
from facecraft.synth.photo_look import PhotoLook

from .warp_helpers import astronaut_points


def test_a_measurement_is_computed_once_and_kept():
    img, src, _ = astronaut_points()
    look = PhotoLook(img, src)
    calls = []
    assert look.measure("x", lambda: calls.append(1) or 7) == 7
    assert look.measure("x", lambda: calls.append(1) or 8) == 7
    assert calls == [1]
    assert look.blur == pytest.approx(photo_blur(img, src))
    assert PhotoLook(img, src, blur=0.5).blur == 0.5


def test_a_look_of_another_photo_or_face_is_refused():
    img, src, _ = astronaut_points()
    look = PhotoLook(img, src)
    assert PhotoLook.of(look, img, src) is look
    assert PhotoLook.of(None, img, src).image is img
    with pytest.raises(ParameterError, match="another photo or face"):
        PhotoLook.of(look, img, src + 3.0)
    with pytest.raises(ParameterError, match="another photo or face"):
        PhotoLook.of(look, img[:-1], src)
    with pytest.raises(ParameterError, match="PhotoLook"):
        PhotoLook.of(0.5, img, src)


def test_a_face_keeps_its_look_across_edits_of_the_same_pixels(astronaut, astronaut_faces):
    face = astronaut_faces[0]
    fresh = AnalyzedFace(face.info, face.fit)
    look = fresh.look(astronaut)
    assert fresh.look(astronaut[..., :3]) is look  # a view of the same pixels (what valid_image returns)
    assert fresh.look(astronaut.copy()) is not look  # another array: measured again


def test_an_edit_with_a_kept_look_is_the_edit_measured_afresh(editor, astronaut, astronaut_faces):
    face = AnalyzedFace(astronaut_faces[0].info, astronaut_faces[0].fit)
    for emotion in ("surprise:1", "sadness:1"):  # the mouth and lids repainted, the look kept between the two
        controls = EditControls.from_args(emotion=emotion)
        kept = editor.apply(astronaut, [face], controls)
        change = kept.faces[0].rig_change
        fresh, _ = render_rig_change(astronaut, AnalyzedFace(face.info, face.fit), change)
        assert np.array_equal(kept.image, fresh)


def test_exposure_is_one_for_lit_faces_and_falls_with_a_dark_photos_skin():
    from facecraft.synth.photo_look import DIM_SKIN, exposure

    assert exposure(71.0) == 1.0 and exposure(200.0) == 1.0  # the darkest lit skin of the tuning photos, a pale one
    assert exposure(DIM_SKIN / 4) == pytest.approx(0.25) and exposure(0.0) == 0.0
