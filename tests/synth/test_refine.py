"""The refine pipeline on tiny pixel and latent bases built from configs (offline, CPU, seconds).

Invariants: pixels where the refine mask is zero equal the geometric edit bit for bit; the mask stays inside
the face outline; au_scale 0 makes the condition irrelevant; bad arguments raise before any work; a base
folder round-trips and a missing one names what to pass.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from facecraft.rigs import EmotionCode, ParameterError
from facecraft.rigs.errors import MissingFileError
from facecraft.synth.adapter import AUAdapter, check_au_adapter
from facecraft.synth.adapter_base import FaceBase, face_scheduler, face_unet_config, load_base
from facecraft.synth.controls import EditControls
from facecraft.synth.refine import AUEditPipeline, face_mask

from .test_adapter import tiny_adapter, tiny_unet

torch.set_num_threads(1)
STEPS = dict(num_inference_steps=4, strength=0.5)


def tiny_base(*, latent: bool = False) -> FaceBase:
    torch.manual_seed(0)
    if not latent:
        return FaceBase(tiny_unet(), face_scheduler(), torch.randn(1, 1, 16), 16)
    from diffusers import AutoencoderKL

    vae = AutoencoderKL(
        block_out_channels=(8, 16), latent_channels=4, norm_num_groups=8, layers_per_block=1,
        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
    ).eval()  # fmt: skip
    return FaceBase(tiny_unet(in_channels=4), face_scheduler(), torch.randn(1, 1, 16), 32, vae)


def tiny_pipeline(*, latent: bool = False, editor=None) -> AUEditPipeline:
    base = tiny_base(latent=latent)
    adapter = tiny_adapter(base.unet)
    with torch.no_grad():
        for p in adapter.au_attn.parameters():  # untrained K/V are small: make the condition visible
            p.mul_(20.0)
    pipe = AUEditPipeline.from_base(base, adapter=adapter, editor=editor)
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture(scope="module")
def pipe():
    return tiny_pipeline()


def _gen(seed: int = 0):
    return torch.Generator().manual_seed(seed)


def test_pipeline_end_to_end_keeps_the_outside_of_the_mask(pipe, editor, astronaut, astronaut_faces):
    pipe.editor = editor
    controls = EditControls.from_args(emotion="surprise:0.8")
    out = pipe(astronaut, controls, faces=astronaut_faces, generator=_gen(), **STEPS)
    refined = out.images[0]
    assert refined.shape == astronaut.shape and refined.dtype == np.uint8
    geometric = editor.apply(astronaut, astronaut_faces, controls, face=0).image
    np.testing.assert_array_equal(out.geometric, geometric)  # step 1 is the editor's own edit
    outside = out.mask == 0
    np.testing.assert_array_equal(refined[outside], geometric[outside])  # bit-identical outside
    inside = out.mask > 0.5
    assert np.abs(refined[inside].astype(int) - geometric[inside]).mean() > 0.5  # the refine did something
    assert outside.mean() > 0.5 and inside.any()
    # the condition is the edit's target read as AUs: surprise raises the brows (AU1, AU2)
    assert out.condition[0] > 0.3 and out.crops[0].shape == (16, 16, 3)


def test_a_cut_outs_alpha_moves_with_the_edit_and_the_refine_keeps_it(pipe, editor, astronaut, astronaut_faces):
    # the refine dropped a cut-out's transparency: `facecraft edit --refine` wrote the moved chin opaque white
    from .cutout_helpers import hull_alpha

    pipe.editor = editor
    controls = EditControls.from_args(emotion="surprise:0.8")
    alpha = hull_alpha(astronaut_faces[0].info.landmarks, astronaut.shape[:2])
    out = pipe(astronaut, controls, faces=astronaut_faces, alpha=alpha, generator=_gen(), **STEPS)
    moved = editor.apply(astronaut, astronaut_faces, controls, face=0, alpha=alpha).alpha
    assert np.any(moved != alpha)  # the edit moved it (the chin drops) ...
    np.testing.assert_array_equal(out.alpha, moved)  # ... and the refined image has the edit's alpha
    np.testing.assert_array_equal(out.edit.alpha, moved)
    pts = astronaut_faces[0].info.landmarks  # an image edited already: its alpha as given
    again = pipe(astronaut, target={"AU12": 1.0}, landmarks=pts, alpha=alpha, generator=_gen(), **STEPS)
    np.testing.assert_array_equal(again.alpha, alpha)
    assert pipe(astronaut, target={"AU12": 1.0}, landmarks=pts, generator=_gen(), **STEPS).alpha is None


def test_mask_lies_inside_the_face_outline(astronaut_faces, astronaut):
    import cv2

    from facecraft.rigs.default_rig import FACE_OVAL

    pts = astronaut_faces[0].info.landmarks[:, :2]
    mask = face_mask(pts, astronaut.shape, feather=0.08)
    hull = np.zeros(astronaut.shape[:2], np.uint8)
    cv2.fillPoly(hull, [np.round(pts[list(FACE_OVAL)]).astype(np.int32)], 1)
    assert mask.dtype == np.float32 and mask.max() == pytest.approx(1.0) and mask.min() == 0.0
    assert not (mask > 0)[hull == 0].any()
    assert 0 < (mask > 0.999).sum() < 0.9 * hull.sum()  # eroded, then feathered
    hard = face_mask(pts, astronaut.shape, feather=0.0)
    assert set(np.unique(hard)) == {0.0, 1.0}


@pytest.mark.parametrize("latent", [False, True])
@pytest.mark.parametrize("detail", ["residual", "replace"])
def test_refine_an_edited_image_with_landmarks(latent, detail, astronaut, astronaut_faces):
    pipe = tiny_pipeline(latent=latent)
    pts = astronaut_faces[0].info.landmarks
    steps = []
    out = pipe(
        astronaut, target=EmotionCode.from_emotion("happiness", 0.9), landmarks=pts, detail=detail,
        generator=_gen(), callback_on_step_end=lambda p, i, t, kw: steps.append(i) or kw, **STEPS,
    )  # fmt: skip
    assert steps == [0, 1]  # int(4 * 0.5) steps, each reported
    outside = out.mask == 0
    np.testing.assert_array_equal(out.images[0][outside], astronaut[outside])
    assert out.crops[1].shape == (pipe.resolution, pipe.resolution, 3)
    again = pipe(astronaut, target=EmotionCode.from_emotion("happiness", 0.9), landmarks=pts, detail=detail,
                 generator=_gen(), **STEPS)  # fmt: skip
    np.testing.assert_array_equal(again.images[0], out.images[0])  # seeded: reproducible


def test_au_scale_zero_ignores_the_condition(pipe, astronaut, astronaut_faces):
    pts = astronaut_faces[0].info.landmarks

    def run(emotion, scale):
        code = EmotionCode.from_emotion(emotion, 1.0)
        return pipe(astronaut, target=code, landmarks=pts, au_scale=scale, guidance_scale=1.0, generator=_gen(),
                    detail="replace", **STEPS).crops[1]  # fmt: skip

    np.testing.assert_array_equal(run("happiness", 0.0), run("anger", 0.0))
    assert not np.array_equal(run("happiness", 1.0), run("anger", 1.0))
    pipe.set_au_scale(1.0)


def test_inversion_at_au_scale_zero_gives_back_the_geometric_edit(pipe, astronaut, astronaut_faces):
    pts = astronaut_faces[0].info.landmarks
    kw = dict(target={"AU12": 1.0}, landmarks=pts, guidance_scale=3.0, **STEPS)
    out = pipe(astronaut, au_scale=0.0, **kw)  # the reference and the refined trajectory coincide
    np.testing.assert_array_equal(out.crops[1], out.crops[2])
    np.testing.assert_array_equal(out.images[0], astronaut)
    moved = pipe(astronaut, au_scale=1.0, **kw)
    assert not np.array_equal(moved.images[0], astronaut)  # with the adapter on, only the condition moves it
    again = pipe(astronaut, au_scale=1.0, generator=_gen(5), **kw)
    np.testing.assert_array_equal(again.images[0], moved.images[0])  # inversion is deterministic: no seed matters
    noised = pipe(astronaut, au_scale=0.0, noising="random", generator=_gen(), **kw)
    np.testing.assert_array_equal(noised.crops[2], noised.crops[0])  # random noising: the reference is the crop
    pipe.set_au_scale(1.0)


def test_inversion_cache_skips_the_repeated_work_and_keeps_the_result(astronaut, astronaut_faces, monkeypatch):
    pipe = tiny_pipeline()
    pts = astronaut_faces[0].info.landmarks
    kw = dict(landmarks=pts, guidance_scale=2.0, **STEPS)
    plain = pipe(astronaut, target={"AU26": 1.0}, **kw).images[0]
    inversions = []
    real = pipe.invert
    monkeypatch.setattr(pipe, "invert", lambda *a: inversions.append(1) or real(*a))
    pipe.enable_inversion_cache()
    pipe(astronaut, target={"AU12": 1.0}, **kw)
    cached = pipe(astronaut, target={"AU26": 1.0}, **kw).images[0]
    assert len(inversions) == 1  # the second target on the same crop reused the inversion
    assert np.abs(cached.astype(int) - plain).max() <= 1  # the same image (up to float rounding)
    pipe(astronaut, target={"AU26": 1.0}, au_scale=0.5, **kw)
    assert len(inversions) == 2  # another adapter scale is another reference
    pipe.enable_inversion_cache(False)
    pipe(astronaut, target={"AU26": 1.0}, au_scale=0.5, **kw)
    assert len(inversions) == 3


def test_inverting_then_denoising_comes_back_near_the_crop(pipe):
    from diffusers import DDIMScheduler

    sched = DDIMScheduler.from_config(pipe.scheduler.config)
    timesteps = pipe.get_timesteps(sched, 10, 0.5)
    adapter = check_au_adapter(pipe.unet)
    null, ctx = adapter.null_tokens(1), pipe.context
    x = torch.linspace(-0.8, 0.8, 3 * 16 * 16).reshape(1, 3, 16, 16)

    def denoise(z):
        for t in timesteps:
            eps = pipe.unet(z, t, encoder_hidden_states=(ctx, [null])).sample
            z = sched.step(eps, t, z).prev_sample
        return z

    with torch.no_grad():
        z = pipe.invert(x, timesteps, sched, ctx, null)
        assert (z - x).abs().mean() > 0.1  # it went up the schedule ...
        back = float((denoise(z) - x).abs().mean())
        noised = pipe.prepare_latents(x, timesteps[:1], sched, _gen())
        lost = float((denoise(noised) - x).abs().mean())
    assert back < lost / 3  # ... and denoising walks back far closer than from fresh noise (an untrained UNet)


BAD = [
    (dict(strength=0.0), "strength"),
    (dict(strength=1.5), "strength"),
    (dict(num_inference_steps=0), "num_inference_steps"),
    (dict(num_inference_steps=3, strength=0.2), "no denoising step"),
    (dict(guidance_scale=-1.0), "guidance_scale"),
    (dict(detail="sharpen"), "detail"),
    (dict(noising="sdedit"), "noising"),
    (dict(feather=0.9), "feather"),
    (dict(generator=[torch.Generator(), torch.Generator()]), "generator"),
    (dict(output_type="latent"), "output_type"),
    (dict(au_scale=float("inf")), "au_scale"),
    (dict(controls=None, target=None), "controls"),
    (dict(controls="happy"), "controls"),
    (dict(controls=None, landmarks=None), "landmarks"),
    (dict(controls=None, landmarks=np.zeros((5, 2))), "landmarks"),
    (dict(alpha=np.zeros((5, 5), np.uint8)), "alpha"),
]


@pytest.mark.parametrize(("kwargs", "match"), BAD)
def test_bad_inputs_raise_before_any_work(kwargs, match, astronaut):
    pipe = tiny_pipeline()  # no editor: any work would create one
    args = {"controls": EditControls.from_args(emotion="anger"), "target": {"AU4": 0.5}, **kwargs}
    with pytest.raises(ParameterError, match=match):
        pipe(astronaut, **args)
    assert pipe.editor is None
    with pytest.raises(ParameterError, match="image"):
        pipe(np.zeros((4, 4, 7)), EditControls.from_args(emotion="anger"))


def test_unloaded_pipeline_refuses_and_is_restored(astronaut):
    base = tiny_base()
    before = {k: v.clone() for k, v in base.unet.state_dict().items()}
    procs = dict(base.unet.attn_processors)
    pipe = AUEditPipeline.from_base(base, adapter=tiny_adapter(base.unet))
    assert isinstance(pipe.unload_au_adapter(), AUAdapter)
    after = pipe.unet.state_dict()
    assert list(after) == list(before) and all(torch.equal(after[k], before[k]) for k in before)
    assert all(pipe.unet.attn_processors[n] is p for n, p in procs.items())
    with pytest.raises(ParameterError, match="no AU adapter"):
        pipe(astronaut, target={"AU12": 1.0}, landmarks=np.zeros((478, 2)))


def test_base_folder_round_trip_and_missing_base(tmp_path):
    base = tiny_base()
    base.info = {"data": "test", "licence": "none"}
    base.save(tmp_path / "base")
    back = load_base(tmp_path / "base")
    assert back.resolution == 16 and back.vae is None and back.info["data"] == "test"
    assert torch.equal(back.context, base.context)
    x = torch.randn(1, 3, 16, 16)
    with torch.no_grad():
        a = base.unet(x, 5, encoder_hidden_states=base.context).sample
        b = back.unet(x, 5, encoder_hidden_states=back.context).sample
    assert all(torch.equal(v, back.unet.state_dict()[k]) for k, v in base.unet.state_dict().items())
    torch.testing.assert_close(a, b, rtol=0, atol=1e-5)  # same weights; reloaded tensors may take other kernels
    assert not any(p.requires_grad for p in back.unet.parameters())  # a loaded base is frozen
    pipe = AUEditPipeline.from_base(tmp_path / "base", adapter=AUAdapter.for_unet(back.unet))
    assert check_au_adapter(pipe.unet) is not None
    for missing in (tmp_path / "nope", tmp_path):
        with pytest.raises(MissingFileError, match="SD1.5|Stable Diffusion 1.5"):
            load_base(missing)
    with pytest.raises(MissingFileError, match="none given"):
        load_base(None)


def test_face_unet_config_checks_channels():
    with pytest.raises(ParameterError, match="channels"):
        face_unet_config(channels=(12, 24))


def test_pipeline_moves_with_its_adapter(astronaut, astronaut_faces):
    base = tiny_base()
    pipe = AUEditPipeline.from_base(base, adapter=tiny_adapter(base.unet), dtype=torch.float64)
    pipe.set_progress_bar_config(disable=True)
    out = pipe(astronaut, target={"AU12": 1.0}, landmarks=astronaut_faces[0].info.landmarks, **STEPS)
    assert pipe.unet.dtype == torch.float64 and next(check_au_adapter(pipe.unet).parameters()).dtype == torch.float64
    np.testing.assert_array_equal(out.images[0][out.mask == 0], astronaut[out.mask == 0])


def test_condition_of_an_edit_tolerates_round_off_below_zero(pipe):
    from types import SimpleNamespace

    from facecraft.rigs.facs import arkit_to_au

    # a target whose ARKit -> AU solve lands a hair below 0 (found by search; -1e-32)
    rng = np.random.default_rng(0)
    weights = next(
        w for w in (np.clip(rng.random(52) * (rng.random(52) < 0.2), 0, 1).astype(np.float32) for _ in range(5000))
        if arkit_to_au(w).min() < 0
    )  # fmt: skip
    edit = SimpleNamespace(faces=[SimpleNamespace(weights_after=weights)])
    cond = pipe.condition(None, edit)
    assert cond.shape == (107,) and cond[:50].min() >= 0.0
