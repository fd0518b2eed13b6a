import cv2
import numpy as np
import pytest
from PIL import Image

from facecraft.rigs import ARKIT_INDEX, NoFaceError, ParameterError
from facecraft.synth.bench_edit import outside_face_mask
from facecraft.synth.controls import EditControls, blink_score, blink_value_closure
from facecraft.synth.editor import FaceEditor, edit_image, face_crop

from .cutout_helpers import hull_alpha, on_white, white_patches


def _score(editor, image, name: str) -> float:
    return float(editor.analyzer.analyze(image)[0].blendshapes[ARKIT_INDEX[name]])


@pytest.mark.parametrize(("control", "channel"), [("jawOpen=0.8", "jawOpen"), ("eyeBlinkLeft=1", "eyeBlinkLeft")])
def test_an_edit_raises_its_control_and_leaves_the_background(editor, astronaut, astronaut_faces, control, channel):
    result = editor.apply(astronaut, astronaut_faces, EditControls.from_args(arkit=[control]))
    assert result.image.shape == astronaut.shape and result.image.dtype == np.uint8
    # the weights applied are the controls' targets as MediaPipe scores (a blink's closure as the score such a lid
    # reads as: controls.blink_score); a slider's value otherwise
    asked = float(control.split("=")[1])
    expected = blink_score(blink_value_closure(asked)) if channel.startswith("eyeBlink") else asked
    assert result.weights[ARKIT_INDEX[channel]] == pytest.approx(expected)
    assert _score(editor, result.image, channel) > _score(editor, astronaut, channel) + 0.1
    outside = outside_face_mask(result, astronaut.shape, margin=0.10)
    diff = np.abs(result.image.astype(int) - astronaut.astype(int)).max(-1)
    assert diff[outside].max() <= 2
    assert result.mask[outside].max() < 1e-3 and result.mask.max() > 0.5


def test_asking_for_what_the_face_shows_changes_nothing(editor, astronaut, astronaut_faces):
    now = astronaut_faces[0].weights
    same = {"mouthSmileLeft": float(now[ARKIT_INDEX["mouthSmileLeft"]])}
    result = editor.apply(astronaut, astronaut_faces, EditControls.from_args(arkit=same))
    assert np.array_equal(result.image, astronaut)


def test_emotion_edit_reads_as_that_emotion(editor, astronaut, astronaut_faces):
    result = editor.apply(astronaut, astronaut_faces, EditControls.from_args(emotion="surprise:1"))
    before = editor.analyzer.analyze(astronaut)[0].blendshapes
    after = editor.analyzer.analyze(result.image)[0].blendshapes
    for name in ("browInnerUp", "jawOpen"):
        assert after[ARKIT_INDEX[name]] > before[ARKIT_INDEX[name]] + 0.1, name


def test_calibrated_edits_keep_the_relative_semantics(editor, astronaut, astronaut_faces):
    smile = ARKIT_INDEX["mouthSmileLeft"]
    before = editor.analyzer.analyze(astronaut)[0].blendshapes
    happy = editor.apply(astronaut, astronaut_faces, EditControls.from_args(emotion="happiness:1"))
    assert np.all(happy.faces[0].weights_after[smile] >= before[smile])
    after = editor.analyzer.analyze(happy.image)[0].blendshapes
    assert abs(after[smile] - before[smile]) < 0.1  # the smile the face has is not doubled
    plain = editor.apply(astronaut, astronaut_faces, EditControls.from_args(emotion="neutral:1"))
    change = plain.faces[0].rig_change
    assert change[smile] < -before[smile]  # the calibration removes more than the score (the rig reads weakly)
    # the smile falls, but only so far: one unit of the rig's weak smile shape is all a removal may take
    assert editor.analyzer.analyze(plain.image)[0].blendshapes[smile] < before[smile] - 0.05


def test_two_faces_all_or_one(editor, astronaut):
    small = cv2.resize(astronaut, (384, 384), interpolation=cv2.INTER_AREA)
    canvas = np.full((512, 896, 3), 200, np.uint8)
    canvas[:, :512], canvas[64:448, 512:] = astronaut, small
    faces = editor.analyze(canvas, name="pair")
    assert len(faces) == 2 and faces[0].info.width > faces[1].info.width
    controls = EditControls.from_args(arkit=["jawOpen=0.8"])
    both = editor.apply(canvas, faces, controls)
    only_small = editor.apply(canvas, faces, controls, face=1)
    assert [f.index for f in both.faces] == [0, 1] and [f.index for f in only_small.faces] == [1]
    assert np.array_equal(only_small.image[:, :500], canvas[:, :500])  # the large face is untouched
    assert not np.array_equal(only_small.image[:, 512:], canvas[:, 512:])
    with pytest.raises(ParameterError, match=r"pair: face 2 requested but 2 face\(s\) found"):
        editor.apply(canvas, faces, controls, face=2, name="pair")
    with FaceEditor(max_faces=1) as one:  # the editor's own analyzer reports at most this many, largest first
        assert [f.info.width for f in one.analyze(canvas)] == [faces[0].info.width]
    with pytest.raises(ParameterError, match="max_faces"):
        FaceEditor(editor.analyzer, max_faces=2)


def test_an_upside_down_photo_is_edited_as_the_upright_one(editor, astronaut):
    controls = EditControls.from_args(emotion="surprise:1")
    upright = editor.edit(astronaut, controls).image
    turned = editor.edit(np.ascontiguousarray(astronaut[::-1, ::-1]), controls).image[::-1, ::-1]
    diff = np.abs(upright.astype(int) - turned.astype(int)).max(axis=-1)
    assert not np.array_equal(turned, astronaut)
    assert (diff > 10).mean() < 0.01  # the same edit but for painted details lit from the photo's top left


def test_no_face_is_named(editor):
    with pytest.raises(NoFaceError, match="blank.png"):
        editor.analyze(np.full((256, 256, 3), 128, np.uint8), name="blank.png")


def test_edit_image_takes_control_arguments(astronaut, editor):
    result = edit_image(astronaut, arkit=["jawOpen=0.6"], editor=editor)
    assert result.faces[0].weights_after[ARKIT_INDEX["jawOpen"]] == pytest.approx(0.6)
    assert result.fit.mean_residual_px < 2.0
    with pytest.raises(ParameterError, match="not both"):
        edit_image(astronaut, EditControls.from_args(emotion="anger"), emotion="anger", editor=editor)
    with pytest.raises(ParameterError, match="absolute: expected True or False"):
        edit_image(astronaut, arkit=["jawOpen=0.6"], absolute="no", editor=editor)
    with pytest.raises(ParameterError, match="expected a FaceEditor"):
        edit_image(astronaut, arkit=["jawOpen=0.6"], editor="x")


def test_edit_image_reads_a_path(tmp_path, astronaut, editor):
    from facecraft.eval.images import save_image
    from facecraft.rigs.errors import MissingFileError

    save_image(astronaut, tmp_path / "a.png")
    by_path = edit_image(str(tmp_path / "a.png"), arkit=["jawOpen=0.6"], editor=editor)
    np.testing.assert_array_equal(by_path.image, edit_image(astronaut, arkit=["jawOpen=0.6"], editor=editor).image)
    with pytest.raises(MissingFileError, match="absent.png"):
        edit_image(tmp_path / "absent.png", arkit=["jawOpen=0.6"], editor=editor)


def test_face_crop_is_square_and_inside():
    image = np.zeros((100, 200, 3), np.uint8)
    crop = face_crop(image, (150, 20, 190, 60), scale=2.0)
    assert crop.shape[:2] == (80, 70)  # an 80 px square, clipped at the right edge


def test_an_opened_mouth_is_rounded_toward_the_corners():
    from facecraft.rigs.default_rig import LIPS_LOWER_INNER, LIPS_UPPER_INNER
    from facecraft.synth.editor import rounded_opening

    from .warp_helpers import astronaut_points

    _, src, _ = astronaut_points()
    dst = src.copy()
    dst[list(LIPS_LOWER_INNER[1:-1]), 1] += 20.0  # the rig's jaw: the whole lower inner lip drops ...
    dst[[LIPS_UPPER_INNER[0], LIPS_UPPER_INNER[-1]], 1] += 10.0  # ... the corners half as far
    out = rounded_opening(src, dst)
    gap = out[list(LIPS_LOWER_INNER[1:-1]), 1] - out[list(LIPS_UPPER_INNER[1:-1]), 1]
    before = src[list(LIPS_LOWER_INNER[1:-1]), 1] - src[list(LIPS_UPPER_INNER[1:-1]), 1]
    added = gap - before
    assert added[4] == pytest.approx(20.0, abs=0.5)  # the middle opens as asked
    assert added[0] < 0.8 * added[4] and added[-1] < 0.8 * added[4]  # an oval: less toward the corners
    assert np.all(np.diff(added[:5]) >= -1e-6) and np.all(np.diff(added[4:]) <= 1e-6)
    others = np.setdiff1d(np.arange(468), LIPS_UPPER_INNER[1:-1] + LIPS_LOWER_INNER[1:-1])
    assert np.array_equal(out[others], dst[others])
    shifted = src + (3.0, -2.0)  # common motion (a smile's curve, a head move) and closing stay as they are
    assert np.allclose(rounded_opening(src, shifted), shifted)
    closing = src.copy()
    closing[list(LIPS_LOWER_INNER[1:-1]), 1] -= 2.0
    assert np.allclose(rounded_opening(src, closing), closing)
    kept = rounded_opening(src, dst, keep_closed=True)  # a closed mouth the request does not open: no gap added
    gap = kept[list(LIPS_LOWER_INNER[1:-1]), 1] - kept[list(LIPS_UPPER_INNER[1:-1]), 1]
    assert np.allclose(gap - before, 0.0, atol=0.1)  # (was 20 px in the middle)


def test_only_a_request_to_open_opens_the_mouth():
    from facecraft.synth.calibration import CROSS_TALK
    from facecraft.synth.editor import opens_mouth

    change = np.zeros(52)
    change[ARKIT_INDEX["mouthPressLeft"]] = change[ARKIT_INDEX["mouthPressRight"]] = -0.9  # a press removed
    change[ARKIT_INDEX["mouthFunnel"]] = 0.5 * CROSS_TALK  # a cross-talk correction
    assert not opens_mouth(change)
    for name in ("jawOpen", "mouthLowerDownLeft", "mouthUpperUpRight", "mouthFunnel"):
        asked = change.copy()
        asked[ARKIT_INDEX[name]] = 0.5
        assert opens_mouth(asked), name


def test_removing_a_smile_carries_the_skin_beside_the_corners():
    from facecraft.rigs.default_rig import LIPS_UPPER_OUTER, SEMANTIC_VERTICES
    from facecraft.synth.editor import _skin_points, drag_corner_skin
    from facecraft.synth.warp import face_width

    from .warp_helpers import astronaut_points

    _, src, _ = astronaut_points()
    right, left = SEMANTIC_VERTICES["mouth_corner_r"], SEMANTIC_VERTICES["mouth_corner_l"]
    dst = src.copy()
    dst[right] += (8.0, 3.0)  # the right corner (image left) comes in and down: its smile is removed
    change = np.zeros(52)
    change[ARKIT_INDEX["mouthSmileRight"]] = -1.2
    out = drag_corner_skin(src, dst, change)
    fw = face_width(src)
    distance = np.linalg.norm(src - src[right], axis=1) / fw
    skin = _skin_points()
    assert not skin[list(LIPS_UPPER_OUTER)].any() and skin.sum() > 300
    moved = np.linalg.norm(out - dst, axis=1)
    near = skin & (distance < 0.06)
    assert near.sum() >= 3 and np.all(out[near, 0] > src[near, 0] + 1.0)  # the creases beside it follow inward
    closest = np.flatnonzero(skin)[np.argmin(distance[skin])]
    assert out[closest, 0] > src[closest, 0] + 4.0  # most of all where they meet the corner
    assert np.allclose(out[~skin], dst[~skin])  # the lips keep the rig's motion
    assert np.all(moved[distance > 0.26] < 1e-9)  # far skin does not move
    far_side = np.linalg.norm(src - src[left], axis=1) / fw < 0.05
    assert np.all(moved[far_side] < 1e-9)  # the other side's smile was not removed
    assert np.allclose(drag_corner_skin(src, dst, np.zeros(52)), dst)  # no smile removed or raised: nothing added


def test_a_raised_corner_carries_its_skin_without_a_flap():
    """A raised corner (contempt's mouthDimple, a one-sided smile) moved the lips 12.5 px while the skin beside
    the corner stayed (UTKFace tuning crops 67_0_0, 61_1_3 in contempt): the skin triangles there stretched into a
    dark V-shaped flap hanging from the corner. The skin around it now goes with the corner, fading with distance."""
    from facecraft.rigs.default_rig import SEMANTIC_VERTICES, opening_faces
    from facecraft.rigs.mediapipe_mesh import canonical_mesh
    from facecraft.synth.editor import _skin_points, drag_corner_skin
    from facecraft.synth.warp import face_width, unfolded_target

    from .warp_helpers import astronaut_points

    _, src, _ = astronaut_points()
    right, left = SEMANTIC_VERTICES["mouth_corner_r"], SEMANTIC_VERTICES["mouth_corner_l"]
    fw, skin = face_width(src), _skin_points()
    distance = np.linalg.norm(src - src[right], axis=1) / fw
    dst = src.copy()  # the rig lifts the lips by the right corner (12 px there, fading along them), not the skin
    dst[~skin, 1] -= 12.0 * np.clip(1.0 - distance[~skin] / 0.3, 0.0, 1.0) ** 2
    change = np.zeros(52)
    change[ARKIT_INDEX["mouthDimpleRight"]] = 1.5
    out = drag_corner_skin(src, dst, change)
    near = skin & (distance < 0.05)
    assert near.sum() >= 3 and np.all(src[near, 1] - out[near, 1] > 0.4 * 12.0)  # old: 0
    assert np.allclose(out[~skin], dst[~skin])  # the lips keep the rig's motion
    assert np.abs(out - dst)[np.linalg.norm(src - src[left], axis=1) / fw < 0.05].max() < 1e-9  # not the other side

    faces = canonical_mesh().faces
    beside = (np.linalg.norm(src[faces] - src[right], axis=2).max(1) < 0.08 * fw) & skin[faces].any(1)
    beside[opening_faces()] = False

    def area(p):
        a, b, c = (p[faces[beside, k]] for k in range(3))
        return np.abs((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])).sum()

    # the skin triangles beside the corner, where the warp puts them: 2.47 times their area in the photo without
    # the skin carried, 1.85 with it (1.38 carried by the whole raise)
    assert area(unfolded_target(src, out)) < 2.1 * area(src)

    # both corners raised alike (a smile, happiness) carry no skin: carried, the neutral FRLL calibration people's
    # happiness strayed further from their real smiles (mouth landmark error 0.0353 -> 0.0376 face widths)
    change[ARKIT_INDEX["mouthDimpleLeft"]] = 1.5
    assert np.allclose(drag_corner_skin(src, dst, change), dst)


def test_the_skin_carried_with_a_corner_moves_smoothly_from_point_to_point():
    """Carried point by point, the skin next to a corner moved with it while its neighbours a ring out (and the lip
    beside it) did not, and the warp's triangles drew the strain as panels with straight edges (the astronaut in
    surprise: a light panel from the nose wing down to the lip)."""
    from facecraft.rigs.default_rig import SEMANTIC_VERTICES
    from facecraft.rigs.mediapipe_mesh import canonical_mesh
    from facecraft.synth.editor import _skin_points, drag_corner_skin

    from .warp_helpers import astronaut_points

    _, src, _ = astronaut_points()
    right = SEMANTIC_VERTICES["mouth_corner_r"]
    dst = src.copy()
    dst[right] += (8.0, 3.0)
    change = np.zeros(52)
    change[ARKIT_INDEX["mouthSmileRight"]] = -1.2
    drag = drag_corner_skin(src, dst, change) - dst
    faces = canonical_mesh().faces
    a, b = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]).T
    strain = np.linalg.norm(drag[a] - drag[b], axis=1) / np.linalg.norm(src[a] - src[b], axis=1)
    skin = _skin_points()
    assert strain[skin[a] & skin[b]].max() < 0.7  # measured 0.55 (point by point: 1.01)
    assert strain.max() < 1.6  # skin against lip: 1.33 (2.07)
    assert np.linalg.norm(drag, axis=1).max() > 4.0  # still carried: 5.2 px of the corner's 8.5


def test_removing_a_smile_fades_the_creases_beside_its_corners():
    from facecraft.rigs.default_rig import SEMANTIC_VERTICES
    from facecraft.synth.editor import soften_folds
    from facecraft.synth.warp import face_width

    from .warp_helpers import astronaut_points

    _, src, _ = astronaut_points()
    right, left = SEMANTIC_VERTICES["mouth_corner_r"], SEMANTIC_VERTICES["mouth_corner_l"]
    fw = face_width(src)
    h, w = int(src[:, 1].max()) + 40, int(src[:, 0].max()) + 40
    image = np.full((h, w, 3), 170, np.uint8)
    rng = np.random.default_rng(0)
    image = np.clip(image + rng.normal(0, 2, image.shape), 0, 255).astype(np.uint8)  # skin grain
    crease = np.round(src[right] + (-0.08 * fw, -0.08 * fw)).astype(int)  # a fold above and beside the corner
    far = np.round(src[right] + (-0.5 * fw, -0.1 * fw)).astype(int)  # one well away from the mouth
    for x, y in (crease, far):
        image[y - 12 : y + 12, x - 1 : x + 2] = 110
    change = np.zeros(52)
    change[ARKIT_INDEX["mouthSmileRight"]] = -1.2
    out = soften_folds(image, src, src, change)
    x, y = crease
    assert out[y, x].mean() > image[y, x].mean() + 25  # the fold beside the removed smile fades
    x, y = far
    assert np.array_equal(out[y, x], image[y, x])  # away from the corner nothing changes
    import cv2

    from facecraft.rigs.default_rig import FACE_OVAL

    outside = np.ones(image.shape[:2], np.uint8)  # the background around the face: dark against the skin
    cv2.fillPoly(outside, [np.round(src[list(FACE_OVAL)]).astype(np.int32)], 0)
    image2 = image.copy()
    image2[outside > 0] = 40
    out2 = soften_folds(image2, src, src, change)
    assert np.array_equal(out2[outside > 0], image2[outside > 0])  # the outline is no crease: outside untouched
    lip = np.round(0.5 * (src[right] + src[left])).astype(int)
    assert np.array_equal(out[lip[1], lip[0]], image[lip[1], lip[0]])  # the lips keep their shading
    grain = np.s_[crease[1] - 20 : crease[1] - 14, crease[0] - 3 : crease[0] + 4]
    assert np.abs(out[grain].astype(int) - image[grain]).max() <= 3  # plain skin keeps its grain
    assert np.array_equal(soften_folds(image, src, src, np.zeros(52)), image)  # no smile removed: nothing
    kept = change.copy()
    kept[ARKIT_INDEX["mouthSmileRight"]] = 0.5
    assert np.array_equal(soften_folds(image, src, src, kept), image)  # a smile that rises keeps its folds


def test_removing_a_smile_fades_its_fold_up_to_the_nose_wing_and_in_the_skin_hue():
    # The held nose wing and the narrowed corner stretched the smile's fold into a dark band beside the nose (astronaut,
    # neutral: her right side; the nose read as bent): the lift reaches the fold's top, not only the corner's surround.
    from facecraft.rigs.default_rig import SEMANTIC_VERTICES
    from facecraft.synth.editor import soften_folds
    from facecraft.synth.warp import face_width

    from .warp_helpers import astronaut_points

    _, src, _ = astronaut_points()
    right, left = SEMANTIC_VERTICES["mouth_corner_r"], SEMANTIC_VERTICES["mouth_corner_l"]
    wing, tip = 129, SEMANTIC_VERTICES["nose_tip"]  # the right nose wing (image left)
    fw = face_width(src)
    h, w = int(src[:, 1].max()) + 40, int(src[:, 0].max()) + 40
    skin = np.array([200, 150, 125], np.float64)
    rng = np.random.default_rng(0)
    image = np.clip(skin + rng.normal(0, 2, (h, w, 3)), 0, 255).astype(np.uint8)
    out_dir = (src[wing] - src[tip]) / np.linalg.norm(src[wing] - src[tip])
    top = src[wing] + 0.03 * fw * out_dir  # the fold's top, just outside the wing
    bottom = src[right] + 0.03 * fw * out_dir
    for t in np.linspace(0.0, 1.0, 40):  # a warm shadow 3 px wide from the wing down to beside the corner
        x, y = np.round(top + t * (bottom - top)).astype(int)
        image[y - 1 : y + 2, x - 1 : x + 2] = (140, 85, 60)
    change = np.zeros(52)
    change[ARKIT_INDEX["mouthSmileRight"]] = change[ARKIT_INDEX["mouthSmileLeft"]] = -1.2
    out = soften_folds(image, src, src, change).astype(np.float64)
    x, y = np.round(top + 0.15 * (bottom - top)).astype(int)
    assert np.linalg.norm(np.array([x, y]) - src[right]) > 0.15 * fw  # far from the corner
    assert out[y, x].mean() > image[y, x].mean() + 35  # beside the nose the fold fades (+19 before)
    lifted = out[y, x] / out[y, x].mean()
    assert np.abs(lifted - skin / skin.mean()).max() < 0.08  # in the skin's hue, not an orange streak (0.13 before)
    nose = np.round(0.5 * (src[wing] + src[tip])).astype(int)
    shaded = image.copy()
    shaded[nose[1] - 2 : nose[1] + 3, nose[0] - 2 : nose[0] + 3] = 90  # the nose's own shading
    kept = soften_folds(shaded, src, src, change)[nose[1], nose[0]].astype(int)
    assert np.abs(kept - shaded[nose[1], nose[0]]).max() <= 3  # the nose keeps its shading (+10 before)
    lip = np.round(0.5 * (src[right] + src[left])).astype(int)
    assert np.array_equal(out[lip[1], lip[0]], image[lip[1], lip[0]])  # the lips keep their shading


def test_removing_a_smile_holds_the_nose_at_its_rest(editor, astronaut, astronaut_faces):
    from facecraft.rigs.default_rig import SEMANTIC_VERTICES
    from facecraft.synth.editor import _nose_hold, held_offsets, mesh_targets, rig_change_offsets
    from facecraft.synth.warp import face_width

    face = astronaut_faces[0]
    plain = editor.apply(astronaut, astronaut_faces, EditControls.from_args(emotion="neutral:1"))
    change = plain.faces[0].rig_change
    smile = [ARKIT_INDEX["mouthSmileLeft"], ARKIT_INDEX["mouthSmileRight"]]
    assert np.all(change[smile] < -face.fit.weights[smile] - 0.2)  # the removal goes past the rig's neutral ...
    held = held_offsets(face.fit, change)
    shown = face.fit.weights > 0.05
    rest = rig_change_offsets(face.fit, np.where(shown, np.maximum(change, -face.fit.weights), change))
    nose = [SEMANTIC_VERTICES["nose_tip"], 2, SEMANTIC_VERTICES["nostril_l"], SEMANTIC_VERTICES["nostril_r"]]
    assert np.allclose(held[nose], rest[nose])  # ... but the nose only goes back to its rest
    lips = [SEMANTIC_VERTICES["mouth_corner_l"], SEMANTIC_VERTICES["upper_lip_center"]]
    assert np.allclose(held[lips], rig_change_offsets(face.fit, change)[lips])  # the mouth keeps the full removal
    assert _nose_hold()[lips].max() == 0.0
    src, dst = mesh_targets(face, change)
    fw = face_width(src)
    tip, sub = SEMANTIC_VERTICES["nose_tip"], 2
    # the nose tip to subnasale distance grew 0.027 face widths (doubled) before the hold; FRLL people's real
    # neutral photos lie 0.009 below their broad smiles
    assert np.linalg.norm(dst[sub] - dst[tip]) - np.linalg.norm(src[sub] - src[tip]) < 0.02 * fw
    assert np.array_equal(held_offsets(face.fit, np.abs(change)), rig_change_offsets(face.fit, np.abs(change)))


def test_pressed_lips_meet_over_an_open_smile(editor, astronaut, astronaut_faces):
    from facecraft.rigs.default_rig import LIPS_LOWER_INNER, LIPS_UPPER_INNER
    from facecraft.synth.editor import lip_seal, mesh_targets
    from facecraft.synth.warp import face_width

    face = astronaut_faces[0]
    up, lo = list(LIPS_UPPER_INNER[3:-3]), list(LIPS_LOWER_INNER[3:-3])  # the middle of the opening
    src = face.info.landmarks[:468, :2].astype(np.float64)
    fw = face_width(src)
    assert (src[lo, 1] - src[up, 1]).min() > 0.05 * fw  # the astronaut smiles with her teeth showing
    angry = editor.apply(astronaut, astronaut_faces, EditControls.from_args(emotion="anger:1"))
    change = angry.faces[0].rig_change
    assert lip_seal(change) == 1.0
    _, dst = mesh_targets(face, change)
    assert np.abs(dst[lo, 1] - dst[up, 1]).max() < 0.01 * fw  # anger's pressed lips meet (they stayed 0.057 apart)
    mouth = np.round(0.5 * (dst[13] + dst[14])).astype(int)
    patch = angry.image[mouth[1] - 1 : mouth[1] + 2, mouth[0] - 6 : mouth[0] + 7].astype(float)
    teeth = astronaut[int(src[13, 1]) + 2 : int(src[14, 1]) - 1, int(src[13, 0]) - 6 : int(src[13, 0]) + 7]
    assert patch.mean() < teeth.astype(float).mean() - 20  # lips, not the photo's teeth, where they meet
    one_side = np.zeros(52)
    one_side[ARKIT_INDEX["mouthPressLeft"]] = 0.8
    assert lip_seal(one_side) == 0.0  # one side pressed: no seal
    opened = change.copy()
    opened[ARKIT_INDEX["jawOpen"]] = 0.5
    assert lip_seal(opened) == 0.0  # an opening jaw is never sealed


def test_the_solves_cross_talk_press_repaints_no_lips(editor, astronaut, astronaut_faces, monkeypatch):
    # A one-sided dimple (AU14R, contempt's own unit) asks for no press, but the solve adds ~0.08-0.13 to both
    # mouthPress shapes: the astronaut's toothy smile was repainted a quarter sealed (a pale lower-lip band with a hard
    # edge, a dark wedge below the lowered corner). (Contempt itself now takes her smile off both sides: closed lips.)
    from facecraft.synth import mouth_seal
    from facecraft.synth.calibration import CROSS_TALK
    from facecraft.synth.editor import _SEAL_FULL, lip_seal

    change = editor.apply(astronaut, astronaut_faces, EditControls.from_args(au={"AU14R": 1.0})).faces[0].rig_change
    press = change[[ARKIT_INDEX["mouthPressLeft"], ARKIT_INDEX["mouthPressRight"]]]
    assert 0.0 < press.min() <= CROSS_TALK  # the correction the solve adds
    assert lip_seal(change, requested=True) == 0.0
    assert lip_seal(change) > 0.0  # the targets keep it (MediaPipe reads mouthDimple by it)
    repainted = []
    monkeypatch.setattr(mouth_seal, "seal_mouth", lambda warped, *a, **k: repainted.append(1) or warped)
    editor.apply(astronaut, astronaut_faces, EditControls.from_args(au={"AU14R": 1.0}))
    assert not repainted  # the photo's lips are not repainted pressed
    pressed = np.zeros(52)
    pressed[[ARKIT_INDEX["mouthPressLeft"], ARKIT_INDEX["mouthPressRight"]]] = 0.5 * (CROSS_TALK + _SEAL_FULL)
    assert 0.4 < lip_seal(pressed, requested=True) < 0.6  # a requested press past the corrections, in proportion


def test_a_mouth_an_edit_shuts_gets_the_photos_lips_painted_shut(editor, astronaut, astronaut_faces):
    # Sadness on a toothy smile brought the lips together over the teeth, squeezed into a white line between them.
    from facecraft.rigs.default_rig import LIPS_LOWER_INNER, LIPS_UPPER_INNER
    from facecraft.synth.editor import closing_seal, mesh_targets

    face = astronaut_faces[0]
    src = face.info.landmarks[:468, :2].astype(np.float64)

    def seal_of(emotion: str) -> float:
        change = editor.apply(astronaut, astronaut_faces, EditControls.from_args(emotion=emotion)).faces[0].rig_change
        return closing_seal(src, mesh_targets(face, change)[1], change)

    assert seal_of("sadness:1") == 1.0  # the edit's inner lips meet: painted shut
    assert seal_of("happiness:1") == 0.0 and seal_of("surprise:1") == 0.0  # a mouth kept or opened is not
    assert seal_of("contempt:1") < 1.0  # a half-shut smile keeps some of its opening
    opens = np.zeros(52)
    opens[ARKIT_INDEX["jawOpen"]] = 0.3
    shut = src.copy()
    shut[list(LIPS_LOWER_INNER)] = shut[list(LIPS_UPPER_INNER)]  # a photo whose lips touch
    assert closing_seal(src, shut, opens) == 0.0  # an opening jaw is never sealed
    assert closing_seal(shut, shut, np.zeros(52)) == 0.0  # lips that already touch are left to the warp
    assert closing_seal(src, src, np.zeros(52)) == 0.0  # nothing moved: the photo's own opening stays


def test_a_smile_taken_away_keeps_its_lip_outlines_from_crossing(editor, astronaut, astronaut_faces):
    # The rig dropped the upper lip beside each corner of the astronaut's smile 2-3 px below the lower one's inner
    # edge (neutral, sadness, anger): the warp folded the lip over the corner and drew a dark hook there.
    from facecraft.synth.editor import mesh_targets
    from facecraft.synth.mouth_seal import lip_bands

    for emotion in ("neutral:1", "sadness:1", "anger:1"):
        change = editor.apply(astronaut, astronaut_faces, EditControls.from_args(emotion=emotion)).faces[0].rig_change
        bands = lip_bands(mesh_targets(astronaut_faces[0], change)[1])
        assert (bands.outer_up - bands.inner_up).max() < 1.0, emotion  # between contour points: interpolation
        assert (bands.inner_lo - bands.outer_lo).max() < 1.0, emotion


def test_a_smile_taken_away_takes_its_parted_lips_with_it(editor, astronaut, astronaut_faces):
    # Neutral on a toothy smile left the lips apart over the teeth (FRLL calibration smiles: 11 of 22 open ones).
    from facecraft.synth.calibration import PAST_NEUTRAL, PAST_REMOVAL
    from facecraft.synth.editor import mesh_targets, smile_seal
    from facecraft.synth.mouth import mouth_frame

    face = astronaut_faces[0]
    src = face.info.landmarks[:468, :2].astype(np.float64)
    across = np.linspace(0.2, 0.8, 25)

    def gap_after(emotion: str) -> float:
        change = editor.apply(astronaut, astronaut_faces, EditControls.from_args(emotion=emotion)).faces[0].rig_change
        return float(mouth_frame(mesh_targets(face, change)[1]).gap(across).max())

    before = float(mouth_frame(src).gap(across).max())
    assert gap_after("neutral:1") < 0.1 * before  # shut (the edit left a quarter of it)
    assert gap_after("surprise:1") > before  # a request that opens the mouth is not sealed
    fitted = np.zeros(52)
    smiles = [ARKIT_INDEX["mouthSmileLeft"], ARKIT_INDEX["mouthSmileRight"]]
    fitted[smiles] = 0.5
    removed = np.zeros(52)
    removed[smiles] = -(0.5 + PAST_REMOVAL)  # as far as a removal alone goes
    assert smile_seal(fitted, removed) == pytest.approx(1.0)
    assert smile_seal(fitted, removed / 2) == pytest.approx(0.5)
    replaced = np.zeros(52)
    replaced[smiles] = -(0.5 + PAST_NEUTRAL)  # as far as a smile replaced by another expression goes ...
    replaced[ARKIT_INDEX["browInnerUp"]] = 1.0  # ... (sadness's brows)
    assert smile_seal(fitted, replaced) == pytest.approx(1.0)
    assert smile_seal(fitted, replaced * [0.5 if k in smiles else 1.0 for k in range(52)]) == pytest.approx(0.5)
    assert smile_seal(np.zeros(52), removed) == 0.0  # no smile fitted: nothing it parted
    opened = removed.copy()
    opened[ARKIT_INDEX["jawOpen"]] = 0.3
    assert smile_seal(fitted, opened) == 0.0


def test_the_nose_hold_leaves_edits_that_remove_nothing_the_face_shows(astronaut_faces):
    from facecraft.synth.editor import _nose_hold, held_offsets, rig_change_offsets

    fit = astronaut_faces[0].fit
    parted = np.zeros(52)
    parted[ARKIT_INDEX["mouthClose"]] = -0.3  # a smile's lips parted over the teeth: below neutral, but no removal
    brows = np.zeros(52)
    brows[ARKIT_INDEX["browInnerUp"]] = -1.0 - float(fit.weights[ARKIT_INDEX["browInnerUp"]])  # past neutral
    for change in (parted, brows):
        assert np.allclose(held_offsets(fit, change), rig_change_offsets(fit, change))
    assert _nose_hold()[[168, 6]].max() == 0.0  # the bridge and root are not held (brow moves reach them)


def test_a_wrinkled_nose_lifts_the_nose_only_so_far(astronaut_faces):
    # disgust's ~0.95 rig units of noseSneer lifted the whole lower nose ~6 mm: it came out short and flared
    from facecraft.rigs.default_rig import SEMANTIC_VERTICES
    from facecraft.synth.editor import _NOSE_LIFT, held_offsets, rig_change_offsets

    fit = astronaut_faces[0].fit
    sneer = [ARKIT_INDEX["noseSneerLeft"], ARKIT_INDEX["noseSneerRight"]]
    change = np.zeros(52)
    change[sneer] = 1.0
    held, full = held_offsets(fit, change), rig_change_offsets(fit, change)
    wings = [129, 358, SEMANTIC_VERTICES["nostril_l"], SEMANTIC_VERTICES["nostril_r"]]
    assert _NOSE_LIFT <= 0.6
    np.testing.assert_allclose(held[wings], _NOSE_LIFT * full[wings], atol=1e-9)  # the rig is linear
    lip = SEMANTIC_VERTICES["upper_lip_center"]
    assert np.allclose(held[lip], full[lip])  # the upper lip keeps the whole lift
    anger = change * 0.6  # anger's slight wrinkle moves as before
    assert np.allclose(held_offsets(fit, anger), rig_change_offsets(fit, anger))


def test_a_mouth_shifted_sideways_leaves_the_nose(astronaut_faces):
    # mouthLeft carried the nose's wings along: the warp smeared the wing into a dark streak across the cheek
    from facecraft.rigs.default_rig import SEMANTIC_VERTICES
    from facecraft.synth.editor import held_offsets, rig_change_offsets

    fit = astronaut_faces[0].fit
    for name in ("mouthLeft", "mouthRight"):
        change = np.zeros(52)
        change[ARKIT_INDEX[name]] = 1.0
        held, full = held_offsets(fit, change), rig_change_offsets(fit, change)
        wings = [129, 358, SEMANTIC_VERTICES["nostril_l"], SEMANTIC_VERTICES["nostril_r"]]
        assert np.abs(full[wings]).max() > 0.5 and np.abs(held[wings]).max() < 1e-9, name  # pixels
        lip = SEMANTIC_VERTICES["upper_lip_center"]
        assert np.allclose(held[lip], full[lip])  # the mouth moves whole


def test_a_funnel_request_rounds_the_lips_instead_of_gaping(editor, astronaut, astronaut_faces):
    from facecraft.synth.editor import mesh_targets

    face = astronaut_faces[0]
    funnel = editor.apply(astronaut, astronaut_faces, EditControls.from_args(arkit={"mouthFunnel": 0.8}))
    change = funnel.faces[0].rig_change
    assert change[ARKIT_INDEX["mouthFunnel"]] > 1.0
    src, dst = mesh_targets(face, change)
    # the corners come in, a little: the funnel's smile companion holds them out (a flared "O", not a kiss)
    assert np.linalg.norm(dst[291] - dst[61]) < 0.97 * np.linalg.norm(src[291] - src[61])
    no_funnel = change.copy()
    no_funnel[ARKIT_INDEX["mouthFunnel"]] = 0.0
    _, rest = mesh_targets(face, no_funnel)
    assert np.linalg.norm(dst[14] - dst[13]) > np.linalg.norm(src[14] - src[13]) + 0.05 * np.linalg.norm(
        src[291] - src[61]
    )
    assert not np.allclose(dst, rest)


def test_a_lowered_brow_stops_short_of_the_lid(editor, astronaut, astronaut_faces, monkeypatch):
    import facecraft.synth.editor as editor_module
    from facecraft.rigs.default_rig import BROW_L_LOWER, BROW_R_LOWER
    from facecraft.synth.editor import brow_floor, mesh_targets

    assert editor_module._BROW_FLOOR < 1.0
    monkeypatch.setattr(editor_module, "_BROW_FLOOR", 0.6)  # well below the uncapped drop (0.92 of the gap here)
    face = astronaut_faces[0]
    down = [ARKIT_INDEX["browDownLeft"], ARKIT_INDEX["browDownRight"]]
    change = np.zeros(52)
    change[down] = 3.0  # anger asks ~2.9 rig units
    src, dst = mesh_targets(face, change)
    for brow, lid in ((BROW_R_LOWER, 159), (BROW_L_LOWER, 386)):
        gap = src[lid, 1] - src[list(brow), 1].mean()
        drop = dst[list(brow), 1].mean() - src[list(brow), 1].mean()
        assert 0.5 * gap < drop <= 0.6 * gap + 0.1  # it comes down, but stops on the orbital rim
    small = np.zeros(52)
    small[ARKIT_INDEX["browDownLeft"]] = 0.2  # a slight lowering is not touched, nor the other shapes
    small[ARKIT_INDEX["jawOpen"]] = 0.5
    assert np.array_equal(brow_floor(face.fit, src, small), small)
    capped = brow_floor(face.fit, src, change)
    assert np.all(capped[down] < 3.0)
    assert np.array_equal(np.delete(capped, down), np.zeros(50))


def test_lips_an_edit_pushes_through_each_other_meet_instead(astronaut_faces):
    """A frown and a raised lower lip and chin (as the calibration asks for sadness) can move the upper inner lip
    below the lower one; the targets bring them together (the warp otherwise folds the lips and damps them into a
    bar with steps)."""
    from facecraft.synth.editor import mesh_targets
    from facecraft.synth.mouth import mouth_frame

    analyzed = astronaut_faces[0]
    change = np.zeros(len(ARKIT_INDEX))
    change[[ARKIT_INDEX["mouthFrownLeft"], ARKIT_INDEX["mouthFrownRight"]]] = 2.5
    change[[ARKIT_INDEX["mouthLowerDownLeft"], ARKIT_INDEX["mouthLowerDownRight"]]] = -0.3
    change[ARKIT_INDEX["mouthShrugLower"]] = 1.0  # the lower lip and chin raised
    _, dst = mesh_targets(analyzed, change)
    frame = mouth_frame(dst)
    up, lo = frame.profile(np.linspace(0.1, 0.9, 33) * frame.width)
    assert (lo - up).min() > -0.6, "the inner lips cross"


def test_on_a_large_photo_creases_and_fold_softening_match_their_full_size_shading(monkeypatch):
    import cv2

    import facecraft.synth.creases as creases_module
    import facecraft.synth.photo_blur as photo_blur_module
    from facecraft.synth.creases import paint_creases
    from facecraft.synth.editor import soften_folds

    from .warp_helpers import astronaut_points

    img, src, _ = astronaut_points()
    scale = 12.0  # her face ~1,000 px wide: crease sigmas and fold blurs far above the full-size limits
    big = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    src = src * scale
    change = np.zeros(52)
    change[[ARKIT_INDEX["browDownLeft"], ARKIT_INDEX["browDownRight"], ARKIT_INDEX["noseSneerLeft"]]] = 1.5
    change[[ARKIT_INDEX["mouthSmileLeft"], ARKIT_INDEX["mouthSmileRight"]]] = -1.0
    fast = (paint_creases(big, src, change), soften_folds(big, src, src, change))
    monkeypatch.setattr(creases_module, "_CREASE_GRID", 1e9)
    monkeypatch.setattr(photo_blur_module, "EXACT_SIGMA", 1e9)
    exact = (paint_creases(big, src, change), soften_folds(big, src, src, change))
    for f, e in zip(fast, exact, strict=True):
        changed = np.abs(e.astype(int) - big.astype(int)).max(-1) > 2
        diff = np.abs(f.astype(int) - e.astype(int)).max(-1)
        assert changed.sum() > 10_000  # creases and softened folds were painted
        assert diff.max() <= 6 and diff[changed].mean() < 1.0  # grey levels (creases: 4, 0.52)


def test_removing_a_smile_does_not_carry_the_nose_with_the_corners():
    """The corner drag moves the skin beside a removed smile's corners; the lower nose is cartilage and stays where
    :func:`held_offsets` leaves it (carried along, a broad smile's nose wing followed the corner 0.14 face widths down,
    drawing the nose out into the lip)."""
    from facecraft.rigs.default_rig import SEMANTIC_VERTICES
    from facecraft.synth.editor import _nose_hold, _skin_points, drag_corner_skin
    from facecraft.synth.warp import face_width

    from .warp_helpers import astronaut_points

    _, src, _ = astronaut_points()
    fw = face_width(src)
    dst = src.copy()
    for corner in (SEMANTIC_VERTICES["mouth_corner_r"], SEMANTIC_VERTICES["mouth_corner_l"]):
        dst[corner] += (0.0, 0.1 * fw)  # both corners pulled down: their smiles removed
    change = np.zeros(52)
    change[[ARKIT_INDEX["mouthSmileLeft"], ARKIT_INDEX["mouthSmileRight"]]] = -1.2
    out = drag_corner_skin(src, dst, change)
    held = _nose_hold() >= 0.99
    assert held.sum() > 20 and np.allclose(out[held], dst[held])  # the lower nose keeps its own motion
    cheek = _skin_points() & (_nose_hold() == 0) & (np.linalg.norm(src - src[61], axis=1) < 0.08 * fw)
    assert cheek.sum() >= 3 and np.all(out[cheek, 1] > dst[cheek, 1] + 0.02 * fw)  # the skin beside still follows


def test_a_turned_heads_jaw_drops_along_the_faces_own_vertical(astronaut_faces):
    # surprise on a head turned ~25 degrees slid the open mouth toward the far cheek: the rig's jaw moves the chin back
    # more than down, a funnel pushes the lips forward, and the warp showed that depth as a sideways slide
    import dataclasses

    from facecraft.eval.faces import yaw_pitch_roll_to_rotation
    from facecraft.synth.editor import rig_change_offsets

    fit = astronaut_faces[0].fit
    change = np.zeros(52)
    change[[ARKIT_INDEX["jawOpen"], ARKIT_INDEX["mouthFunnel"]]] = 0.8, 0.5
    midline = [14, 17, 152]  # the lower lip's middle (inner, outer) and the chin
    for yaw, pitch in ((30.0, 0.0), (-25.0, 10.0)):
        turned = dataclasses.replace(fit, rotation=yaw_pitch_roll_to_rotation(yaw, pitch, 0.0))
        moved = rig_change_offsets(turned, change)
        down = (turned.project(np.array([[0.0, -1.0, 0.0]])) - turned.project(np.zeros((1, 3))))[0]
        down /= np.linalg.norm(down)  # the face's own vertical in the image
        along, across = moved[midline] @ down, moved[midline] @ np.array([-down[1], down[0]])
        assert along.min() > 1.0 and np.abs(across).max() < 0.02 * along.max()
    level = dataclasses.replace(fit, rotation=yaw_pitch_roll_to_rotation(0.0, 15.0, 0.0))  # a pitch shows the depth
    full = level.project(level.vertices(level.weights + change)) - level.project(level.vertices())
    np.testing.assert_allclose(rig_change_offsets(level, change), full, atol=1e-9)


def test_a_cut_outs_alpha_moves_with_every_face(tmp_path, editor, astronaut):
    # A changed pixel of a cut-out was written opaque: below the chins a jawOpen dropped lay opaque white (the
    # background the photo is edited on), and a chin's new place kept the photo's alpha. The alpha now moves with
    # each face.
    small = cv2.resize(astronaut, (384, 384), interpolation=cv2.INTER_AREA)
    canvas = np.full((512, 896, 3), 200, np.uint8)
    canvas[:, :512], canvas[64:448, 512:] = astronaut, small
    alpha = np.zeros(canvas.shape[:2], np.uint8)
    for f in editor.analyze(canvas):
        alpha = np.maximum(alpha, hull_alpha(f.info.landmarks, alpha.shape))
    photo = on_white(canvas, alpha)
    faces = editor.analyze(photo)
    controls = EditControls.from_args(arkit=["jawOpen=0.8"])
    result = editor.apply(photo, faces, controls, alpha=alpha)
    assert len(result.faces) == 2
    np.testing.assert_array_equal(result.image, editor.apply(photo, faces, controls).image)  # the picture as before
    forced = np.where(result.mask > 0.5, 255, alpha).astype(np.uint8)  # how changed pixels were written before
    # (411: the chin band that now covers the neck (synth.warp) leaves the neck under the chins not pure white)
    assert white_patches(alpha, np.dstack([result.image, forced])).sum() > 300
    assert white_patches(alpha, np.dstack([result.image, result.alpha])).sum() == 0
    for edit in result.faces:  # each chin dropped past the cut-out's edge, and the silhouette with it
        x, y = np.round(faces[edit.index].info.landmarks[152, :2] + edit.offsets_px[152]).astype(int)
        assert alpha[y - 2, x] == 0 and result.alpha[y - 2, x] == 255
    Image.fromarray(np.dstack([canvas, alpha])).save(tmp_path / "cut.png")
    by_path = edit_image(tmp_path / "cut.png", controls, editor=editor)  # a file's alpha is read with it
    np.testing.assert_array_equal(by_path.alpha, result.alpha)
    # ... and an RGBA array's or PIL image's (edited, it came back opaque: alpha None)
    given_alpha = editor.apply(canvas, editor.analyze(canvas), controls, alpha=alpha).alpha
    for given in (np.dstack([canvas, alpha]), Image.open(tmp_path / "cut.png")):
        np.testing.assert_array_equal(edit_image(given, controls, editor=editor).alpha, given_alpha)
    assert editor.apply(photo, faces, controls).alpha is None  # an opaque photo has none


def test_a_closed_mouth_smile_shuts_lips_the_photo_shows_apart(editor, astronaut, astronaut_faces):
    # Holding the lip-parting channels at 0 left the astronaut's (and FRLL smilers') lips apart over the teeth.
    from facecraft.synth.editor import closing_seal, mesh_targets
    from facecraft.synth.mouth import mouth_frame

    face = astronaut_faces[0]
    src = face.info.landmarks[:468, :2].astype(np.float64)

    def gap(points) -> float:
        return float(np.linalg.norm(points[14, :2] - points[13, :2]))

    assert gap(src) > 5.0  # she smiles with her lips apart
    shut = editor.apply(astronaut, astronaut_faces, EditControls.from_args(text="a closed mouth smile"))
    change = shut.faces[0].rig_change
    _, dst = mesh_targets(face, change, shut=True)
    assert float(mouth_frame(dst).gap(np.linspace(0.2, 0.8, 25)).max()) < 0.5  # the targets' lips meet ...
    assert closing_seal(src, dst, change) == 1.0  # ... and the photo's lips are painted shut over the teeth
    assert gap(editor.analyze(shut.image)[0].info.landmarks) < 1.0  # MediaPipe sees them closed
    big = editor.apply(astronaut, astronaut_faces, EditControls.from_args(text="a big smile"))
    assert gap(editor.analyze(big.image)[0].info.landmarks) > gap(src)  # a big smile stays open
    slider = EditControls.from_args(arkit=["jawOpen=0"], absolute=True)  # every lip-parting channel at 0
    after = editor.apply(astronaut, astronaut_faces, slider)
    assert gap(editor.analyze(after.image)[0].info.landmarks) < 1.0


@pytest.mark.parametrize("judge_name", ["mini-xception", "networkv2"])
@pytest.mark.parametrize("emotion", ["happiness", "surprise"])
def test_happiness_and_surprise_edits_of_studio_portraits_read_as_such(shared_dir, editor, judge_name, emotion):
    # The issue asks >= 90% of both by both shipped judges. Two changes for a dropped jaw (arch-sized teeth, round
    # cavity ends) reached the smile's lips parted with the jaw still: a dark oval around a short row of teeth, read as
    # neutral on FRLL's studio portraits (happiness at 1.0 on the 36 calibration neutrals, mini-Xception / NetworkV2
    # .917 / .889 -> .694 / .667; on these eight 3 of 8 each). No test read an edit with the judges.
    from facecraft.eval.images import load_image
    from facecraft.eval.judges import get_judge
    from facecraft.rigs import EMOTIONS

    people = ("010", "012", "027", "030", "032", "034", "043", "114")  # FRLL calibration people
    folder = shared_dir / "data" / "faces-frll" / "neutral"
    edits = [editor.edit(load_image(folder / f"{p}.jpg"), EditControls.from_args(emotion=f"{emotion}:1")).image
             for p in people]  # fmt: skip
    read = np.asarray(get_judge(judge_name).predict_proba(edits)).argmax(1)
    assert (read == list(EMOTIONS).index(emotion)).sum() >= 7, [EMOTIONS[i] for i in read]


def test_faces_of_another_size_of_photo_are_refused(editor, astronaut, astronaut_faces):
    # the faces of a 512 px photo applied to its 256 px copy drew an eye on the shirt, without a word
    from facecraft.rigs import ParameterError
    from facecraft.synth import EditControls

    half = np.ascontiguousarray(astronaut[::2, ::2])
    with pytest.raises(ParameterError, match="analysed on an image of 512x512 px, this one is 256x256"):
        editor.apply(half, astronaut_faces, EditControls.from_args(emotion="surprise"))
