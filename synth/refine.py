"""The editor's refine path: the geometric edit, then a short AU-conditioned diffusion pass over the face.

:class:`AUEditPipeline` (a diffusers ``DiffusionPipeline``) runs, for one face of a photo:

1. the geometric edit (:class:`facecraft.synth.editor.FaceEditor`), which moves the landmarks exactly;
2. the condition: the AUs (and emotion code) the edited face should show, from the edit's target weights
   through the one ARKit -> AU map (or a target the caller gives);
3. an aligned square crop of the edited face at the base's resolution (the alignment training used,
   :data:`facecraft.synth.adapter_data.CROP_MARGIN` around the face square);
4. the crop taken ``strength`` of the way up the noise schedule, then DDIM denoising under the AU adapter
   with guidance from the adapter's null condition. ``noising="inversion"`` (default) gets there by DDIM
   inversion under the null condition and also denoises that same starting point under the null condition
   (the *reference*, the base's own reconstruction); ``"random"`` adds seeded noise (img2img, SDEdit) and the
   reference is the crop itself;
5. the refined crop back into the photo inside a feathered face mask built from the landmarks. With
   ``detail="residual"`` (default) only the *change* from the reference is added, upsampled, so a small base
   (64 px) adds shading and shape without blurring the photo's own detail; ``"replace"`` pastes the crop.

Inversion with a reference is what makes a small, quickly trained base usable: what the base cannot
reconstruct appears in both trajectories and cancels, so the change is what the condition asked for (at
``au_scale=0`` the change is exactly zero and the result is the geometric edit).

Pixels where the mask is zero are copied from the geometric edit bit for bit; the mask's support lies inside
the face outline (it is eroded before it is feathered).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from diffusers import DDIMScheduler, DiffusionPipeline
from diffusers.utils import BaseOutput

from facecraft.eval.faces import alignment_matrix
from facecraft.eval.images import valid_image
from facecraft.rigs import EmotionCode, ParameterError
from facecraft.rigs.default_rig import FACE_OVAL

from .adapter import AUAdapter, au_condition, check_au_adapter, load_adapter, load_au_adapter, set_au_scale
from .adapter import unload_au_adapter as _unload
from .adapter_base import FaceBase, load_base
from .adapter_data import CROP_MARGIN
from .refine_defaults import DEFAULT_GUIDANCE, DEFAULT_STEPS, DEFAULT_STRENGTH
from .warp import valid_alpha

logger = logging.getLogger(__name__)

DETAIL_MODES = ("residual", "replace")
NOISING_MODES = ("inversion", "random")
OUTPUT_TYPES = ("np", "pil")


@dataclass
class AUEditOutput(BaseOutput):
    """What :meth:`AUEditPipeline.__call__` returns.

    Attributes
    ----------
    images : list of np.ndarray
        The refined photo, ``(H, W, 3)`` uint8 (or PIL images with ``output_type="pil"``), the input's size.
    geometric : np.ndarray
        The geometric edit alone, ``(H, W, 3)`` uint8.
    mask : np.ndarray
        ``(H, W)`` float32 in [0, 1]: the refine mask (zero where pixels equal ``geometric``).
    crops : tuple of np.ndarray
        ``(before, after, reference)`` aligned face crops at the base's resolution: the crop of the geometric
        edit, the refined crop, and what the residual is measured from (the base's reconstruction under the
        null condition with ``noising="inversion"``, else ``before``).
    condition : np.ndarray
        ``(107,)`` the condition used.
    timings : dict
        Seconds per stage (``edit``, ``diffusion``, ``paste``).
    edit : object
        The :class:`~facecraft.synth.editor.EditResult` of step 1 (None when the caller gave an edited image).
    alpha : np.ndarray or None
        ``(H, W)`` uint8: a cut-out's transparency for ``images`` (the refine changes colour only, so the edit's
        alpha, moved with the face, or the ``alpha`` given with an edited image); None: opaque.
    """

    images: list
    geometric: np.ndarray
    mask: np.ndarray
    crops: tuple
    condition: np.ndarray
    timings: dict
    edit: object = None
    alpha: np.ndarray | None = None


def face_mask(points: np.ndarray, shape, *, feather: float = 0.08) -> np.ndarray:
    """Feathered mask ``(H, W)`` float32 in [0, 1] of the face inside its outline.

    The outline polygon (:data:`~facecraft.rigs.default_rig.FACE_OVAL`) is eroded by ``feather`` face widths
    and then blurred by the same amount, so the mask is 1 in the face's interior, falls off smoothly toward the
    outline and is exactly 0 on and beyond it.

    Parameters
    ----------
    points : np.ndarray
        ``(468|478, 2+)`` landmarks in pixels.
    shape : tuple
        ``(H, W, ...)`` of the photo.
    feather : float
        Width of the fall-off in face widths, in [0, 0.5].
    """
    from .warp import face_width

    pts = np.asarray(points, np.float64)[:, :2]
    h, w = int(shape[0]), int(shape[1])
    hard = np.zeros((h, w), np.uint8)
    cv2.fillPoly(hard, [np.round(pts[list(FACE_OVAL)]).astype(np.int32)], 255)
    radius = int(round(feather * face_width(pts) / 2))
    if radius < 1:
        return (hard > 0).astype(np.float32)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    inner = cv2.erode(hard, kernel)
    soft = cv2.blur(inner.astype(np.float32) / 255.0, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_CONSTANT)
    soft[hard == 0] = 0.0  # a box blur of the eroded polygon cannot leave it; this makes it explicit
    return np.clip(soft, 0.0, 1.0)


class AUEditPipeline(DiffusionPipeline):
    """Photo + edit controls -> geometric edit -> AU-conditioned diffusion refine of the face.

    Build it from a base with :meth:`from_base` (a :class:`~facecraft.synth.adapter_base.FaceBase` or a local
    folder) and give it an adapter (:meth:`load_au_adapter`). ``vae=None`` means a pixel-space base.

    Parameters
    ----------
    unet : UNet2DConditionModel
    scheduler : a diffusers scheduler (sampling runs DDIM from its config)
    vae : AutoencoderKL or None
    """

    model_cpu_offload_seq = "unet->vae"
    _optional_components = ["vae"]

    def __init__(self, unet, scheduler, vae=None) -> None:
        super().__init__()
        self.register_modules(unet=unet, scheduler=scheduler, vae=vae)
        self.context: torch.Tensor | None = None
        self.resolution: int = int(unet.config.sample_size) * (self._vae_scale if vae is not None else 1)
        self.editor = None
        self._inversion_memo: dict | None = None

    @property
    def _vae_scale(self) -> int:
        return 2 ** (len(self.vae.config.block_out_channels) - 1)

    # ------------------------------------------------------------------ construction and adapters
    @classmethod
    def from_base(cls, base, *, adapter=None, au_scale: float = 1.0, editor=None, device=None, dtype=None):
        """A pipeline on ``base`` (FaceBase or folder, see :func:`~facecraft.synth.adapter_base.load_base`),
        optionally with an adapter (object or folder) and a :class:`FaceEditor` to share."""
        if not isinstance(base, FaceBase):
            base = load_base(base)
        pipe = cls(base.unet, base.scheduler, base.vae)
        pipe.context = base.context
        pipe.resolution = int(base.resolution)
        pipe.editor = editor
        if adapter is not None:
            pipe.load_au_adapter(adapter, scale=au_scale)
        moves = {k: v for k, v in (("device", device), ("dtype", dtype)) if v is not None}
        return pipe.to(**moves) if moves else pipe

    def load_au_adapter(self, adapter, *, scale: float = 1.0) -> AUAdapter:
        """Install an adapter (an :class:`AUAdapter` or its folder) into the UNet."""
        if not isinstance(adapter, AUAdapter):
            adapter = load_adapter(adapter)
        load_au_adapter(self.unet, adapter, scale=scale)
        return adapter

    def set_au_scale(self, scale: float) -> None:
        set_au_scale(self.unet, scale)

    def enable_inversion_cache(self, enabled: bool = True) -> None:
        """Remember the last crop's inversion and reference, for many targets on one face (a benchmark sweep).

        A call that finds the same crop, schedule, null tokens and adapter scale skips the inversion and the
        reference trajectory (about half the work). Its refined trajectory then runs in a smaller batch, so
        results may differ from an uncached call in the last bit of a float; off by default."""
        self._inversion_memo = {} if enabled else None

    def _memo_key(self, crop: np.ndarray, timesteps: torch.Tensor, null: torch.Tensor) -> tuple:
        import hashlib

        from .adapter import AUAttnProcessor

        scales = tuple(tuple(p.scale) for p in self.unet.attn_processors.values() if isinstance(p, AUAttnProcessor))
        digest = hashlib.sha1(crop.tobytes())
        digest.update(null.detach().float().cpu().numpy().tobytes())
        return digest.hexdigest(), tuple(timesteps.tolist()), scales, str(null.dtype), str(null.device)

    def unload_au_adapter(self) -> AUAdapter:
        """Remove the adapter: the UNet is then exactly what it was before :meth:`load_au_adapter`."""
        return _unload(self.unet)

    # ------------------------------------------------------------------ steps
    def check_inputs(
        self,
        image,
        controls,
        target,
        strength: float,
        num_inference_steps: int,
        guidance_scale: float,
        au_scale,
        detail: str,
        feather: float,
        generator,
        output_type: str,
        landmarks=None,
        noising: str = "inversion",
        alpha=None,
    ) -> np.ndarray:
        """Raise :class:`ParameterError` for any bad argument, before any work; return the checked image."""
        from .controls import EditControls

        img = valid_image(image)
        if controls is None and target is None:
            raise ParameterError("controls: give edit controls (EditControls) or a target (EmotionCode / AUs), or both")
        if controls is not None and not isinstance(controls, EditControls):
            raise ParameterError(f"controls: expected EditControls, got {type(controls).__name__}")
        if controls is None and landmarks is None:
            raise ParameterError("landmarks: refining without a geometric edit needs the face's landmarks")
        if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0.0 < strength <= 1.0:
            raise ParameterError(f"strength: expected a number in (0, 1], got {strength!r}")
        if isinstance(num_inference_steps, bool) or not isinstance(num_inference_steps, int) or num_inference_steps < 1:
            raise ParameterError(f"num_inference_steps: expected a positive integer, got {num_inference_steps!r}")
        if int(num_inference_steps * strength) < 1:
            raise ParameterError(
                f"strength {strength} x num_inference_steps {num_inference_steps} leaves no denoising step; "
                "raise either so their product is at least 1"
            )
        if isinstance(guidance_scale, bool) or not np.isfinite(guidance_scale) or guidance_scale < 0:
            raise ParameterError(
                f"guidance_scale: expected a finite number >= 0 (1 = no guidance), got {guidance_scale!r}"
            )
        if au_scale is not None and (isinstance(au_scale, bool) or not np.isfinite(au_scale)):
            raise ParameterError(f"au_scale: expected a finite number (0 = the base alone), got {au_scale!r}")
        if detail not in DETAIL_MODES:
            raise ParameterError(f"detail: expected one of {DETAIL_MODES}, got {detail!r}")
        if noising not in NOISING_MODES:
            raise ParameterError(f"noising: expected one of {NOISING_MODES}, got {noising!r}")
        if isinstance(feather, bool) or not 0.0 <= float(feather) <= 0.5:
            raise ParameterError(f"feather: expected face widths in [0, 0.5], got {feather!r}")
        if isinstance(generator, list) and len(generator) != 1:
            raise ParameterError(f"generator: one face is refined per call, got a list of {len(generator)} generators")
        if output_type not in OUTPUT_TYPES:
            raise ParameterError(f"output_type: expected one of {OUTPUT_TYPES}, got {output_type!r}")
        if landmarks is not None:
            pts = np.asarray(landmarks)
            if pts.ndim != 2 or pts.shape[0] not in (468, 478) or pts.shape[1] < 2 or not np.isfinite(pts).all():
                raise ParameterError(f"landmarks: expected finite (468|478, 2+) pixels, got shape {pts.shape}")
        valid_alpha(alpha, img.shape[:2])
        if self.context is None:
            raise ParameterError("pipeline: no context tokens; build it with AUEditPipeline.from_base")
        check_au_adapter(self.unet)
        return img

    def condition(self, target, edit) -> np.ndarray:
        """``(107,)``: the caller's target, else the AUs of the edit's target ARKit weights."""
        if target is not None:
            return au_condition(target)[0]
        from facecraft.rigs.facs import arkit_to_au

        # the solve can land a hair outside [0, 1] (-1e-32 seen): clip, as the condition's range check is strict
        return au_condition(np.clip(arkit_to_au(edit.faces[0].weights_after), 0.0, 1.0))[0]

    def crop_matrix(self, landmarks: np.ndarray) -> np.ndarray:
        """``(2, 3)`` photo -> crop affine map of the face (the training alignment)."""
        return alignment_matrix(landmarks, size=self.resolution, margin=CROP_MARGIN)

    def encode(self, crop: np.ndarray) -> torch.Tensor:
        """Crop ``(R, R, 3)`` uint8 -> the model's sample ``(1, C, r, r)``."""
        x = torch.from_numpy(crop).permute(2, 0, 1)[None].to(self.device, torch.float32) / 127.5 - 1.0
        x = x.to(self.unet.dtype)
        if self.vae is None:
            return x
        return self.vae.encode(x.to(self.vae.dtype)).latent_dist.mode() * self.vae.config.scaling_factor

    def decode(self, sample: torch.Tensor) -> np.ndarray:
        """Model sample -> crop ``(R, R, 3)`` uint8."""
        if self.vae is not None:
            sample = self.vae.decode(sample.to(self.vae.dtype) / self.vae.config.scaling_factor).sample
        x = ((sample[0].float().clamp(-1, 1) + 1.0) * 127.5).round().byte()
        return x.permute(1, 2, 0).cpu().numpy()

    def get_timesteps(self, scheduler, num_inference_steps: int, strength: float) -> torch.Tensor:
        """The last ``strength`` share of a ``num_inference_steps`` DDIM schedule (img2img)."""
        scheduler.set_timesteps(num_inference_steps, device=self.device)
        start = num_inference_steps - min(int(num_inference_steps * strength), num_inference_steps)
        return scheduler.timesteps[start * scheduler.order :]

    def prepare_latents(self, sample: torch.Tensor, timestep: torch.Tensor, scheduler, generator) -> torch.Tensor:
        """``sample`` noised to ``timestep`` with noise from ``generator``."""
        gen = generator[0] if isinstance(generator, list) else generator
        noise = torch.randn(sample.shape, generator=gen, device=gen.device if gen is not None else "cpu")
        noise = noise.to(device=sample.device, dtype=sample.dtype)
        return scheduler.add_noise(sample, noise, timestep.reshape(1))

    def invert(self, sample: torch.Tensor, timesteps: torch.Tensor, scheduler, context, tokens) -> torch.Tensor:
        """DDIM inversion: ``sample`` (clean) carried up through ``reversed(timesteps)`` to ``timesteps[0]``.

        Each step predicts the noise at the next level from the current point (the usual approximation) and
        moves along the deterministic DDIM path, so denoising the result over ``timesteps`` with the same
        tokens comes back close to ``sample``."""
        alphas = scheduler.alphas_cumprod.to(sample.device, torch.float32)
        levels = [None, *reversed(timesteps.tolist())]  # None: the clean sample (alpha 1)
        x = sample
        for cur, nxt in zip(levels[:-1], levels[1:], strict=True):
            a_cur = scheduler.final_alpha_cumprod.to(sample.device) if cur is None else alphas[int(cur)]
            a_nxt = alphas[int(nxt)]
            eps = self.unet(x, int(nxt), encoder_hidden_states=(context, [tokens])).sample.float()
            x0 = (x.float() - (1 - a_cur).sqrt() * eps) / a_cur.sqrt()
            x = (a_nxt.sqrt() * x0 + (1 - a_nxt).sqrt() * eps).to(sample.dtype)
        return x

    def paste(self, edited: np.ndarray, before: np.ndarray, after: np.ndarray, matrix: np.ndarray, mask, detail: str):
        """Put the refined crop back: ``edited`` where ``mask`` is 0, blended elsewhere (float math, then rounded)."""
        h, w = edited.shape[:2]
        flags = cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP
        if detail == "residual":
            delta = after.astype(np.float32) - before.astype(np.float32)
            layer = edited.astype(np.float32) + cv2.warpAffine(delta, matrix, (w, h), flags=flags)
        else:
            layer = cv2.warpAffine(
                after.astype(np.float32), matrix, (w, h), flags=flags, borderMode=cv2.BORDER_REPLICATE
            )
        out = edited.copy()
        inside = mask > 0
        m = mask[inside][:, None]
        out[inside] = np.clip(np.round(edited[inside] * (1.0 - m) + layer[inside] * m), 0, 255).astype(np.uint8)
        return out

    # ------------------------------------------------------------------ call
    @torch.no_grad()
    def __call__(
        self,
        image,
        controls=None,
        *,
        target=None,
        faces=None,
        face: int = 0,
        landmarks=None,
        strength: float = DEFAULT_STRENGTH,
        num_inference_steps: int = DEFAULT_STEPS,
        guidance_scale: float = DEFAULT_GUIDANCE,
        au_scale: float | None = None,
        detail: str = "residual",
        feather: float = 0.08,
        noising: str = "inversion",
        generator: torch.Generator | list | None = None,
        output_type: str = "np",
        callback_on_step_end: Callable | None = None,
        return_dict: bool = True,
        name: str = "image",
        alpha: np.ndarray | None = None,
    ):
        """Refine one face of ``image``.

        Parameters
        ----------
        image : array (H, W, 3) uint8 or anything ``valid_image`` takes
            The photo (or, with ``controls=None`` and ``landmarks``, an image already edited).
        controls : EditControls, optional
            The geometric edit to make first.
        target : EmotionCode, dict of AUs, or array, optional
            What the refine conditions on (see :func:`~facecraft.synth.adapter.au_condition`); default the AUs of
            the edit's target weights.
        faces : list of AnalyzedFace, optional
            ``image`` analysed already (skips detection).
        face : int
            Which face (0 = the largest).
        landmarks : array (468|478, 2+), optional
            The face's landmarks when no geometric edit is made.
        strength : float
            Share of the noise schedule re-run, in (0, 1]: higher changes more.
        num_inference_steps : int
            DDIM steps of the full schedule (``int(steps * strength)`` are run).
        guidance_scale : float
            AU guidance: 1 = conditioned prediction alone, > 1 pushes away from the null condition.
        au_scale : float, optional
            Set the adapter's scale first (0 = the base alone).
        detail : str
            ``"residual"`` adds the diffusion's change (refined minus reference) to the photo; ``"replace"``
            pastes the refined crop.
        feather : float
            Mask fall-off in face widths.
        noising : str
            ``"inversion"`` (DDIM inversion, deterministic, reference = the base's reconstruction) or
            ``"random"`` (seeded noise, reference = the crop).
        generator : torch.Generator, optional
            Noise seed (``noising="random"``).
        output_type : str
            ``"np"`` or ``"pil"``.
        callback_on_step_end : callable, optional
            ``f(pipeline, step_index, timestep, {"latents": ...})`` -> dict that may replace ``latents``.
        return_dict : bool
            Return :class:`AUEditOutput` (else a tuple ``(images, geometric, mask)``).
        name : str
            The photo's name, for messages.
        alpha : array (H, W) uint8, optional
            A cut-out's transparency (:attr:`facecraft.eval.images.PhotoTraits.alpha`): the geometric edit moves it
            with the face, and the refined image keeps it (:attr:`AUEditOutput.alpha`).

        Returns
        -------
        AUEditOutput
        """
        # 1. check inputs (raises before any work)
        img = self.check_inputs(
            image, controls, target, strength, num_inference_steps, guidance_scale, au_scale, detail, feather,
            generator, output_type, landmarks, noising, alpha,
        )  # fmt: skip
        if au_scale is not None:
            self.set_au_scale(float(au_scale))
        timings: dict[str, float] = {}

        # 2. geometric edit
        t0 = time.perf_counter()
        edit = None
        if controls is not None:
            if self.editor is None:
                from .editor import FaceEditor

                self.editor = FaceEditor()
            faces = faces if faces is not None else self.editor.analyze(img, name=name)
            edit = self.editor.apply(img, faces, controls, face=face, name=name, alpha=alpha)
            edited, alpha = edit.image, edit.alpha
            points = faces[face].info.landmarks
        else:
            edited, points = img, np.asarray(landmarks, np.float64)
        timings["edit"] = time.perf_counter() - t0

        # 3. condition and crop
        cond = self.condition(target, edit)
        matrix = self.crop_matrix(points)
        r = self.resolution
        before = cv2.warpAffine(edited, matrix, (r, r), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)

        # 4. condition tokens (null, and conditioned)
        t0 = time.perf_counter()
        adapter = check_au_adapter(self.unet)
        dtype = self.unet.dtype
        own = next(adapter.parameters())
        if own.device != self.device or own.dtype != dtype:  # pipeline.to() moved the UNet, not the projection
            adapter.to(self.device, dtype)
        null = adapter.null_tokens(1).to(dtype)
        tokens = adapter(torch.from_numpy(cond[None]).to(self.device, dtype))
        context1 = self.context.to(self.device, dtype)

        # 5. encode, timesteps, starting point (inverted or noised)
        scheduler = DDIMScheduler.from_config(self.scheduler.config)
        sample = self.encode(before)
        timesteps = self.get_timesteps(scheduler, num_inference_steps, float(strength))
        inverted = noising == "inversion"
        key = self._memo_key(before, timesteps, null) if inverted and self._inversion_memo is not None else None
        remembered = self._inversion_memo.get(key) if key is not None else None
        if remembered is not None:
            latents = remembered[0].clone()
        elif inverted:
            latents = self.invert(sample, timesteps, scheduler, context1, null)
        else:
            latents = self.prepare_latents(sample, timesteps[:1], scheduler, generator)
        start = latents

        # 6. denoising loop: [reference under null (inversion only)] + [null, conditioned] when guided
        guided = guidance_scale != 1.0
        with_reference = inverted and remembered is None
        rows = ([null] if with_reference else []) + ([null] if guided else []) + [tokens]
        batch_tokens = torch.cat(rows)
        context = context1.expand(len(rows), -1, -1)
        reference = latents
        with self.progress_bar(total=len(timesteps)) as bar:
            for i, t in enumerate(timesteps):
                x_in = torch.cat(([reference] if with_reference else []) + [latents] * (2 if guided else 1))
                eps = self.unet(x_in, t, encoder_hidden_states=(context, [batch_tokens])).sample
                if with_reference:
                    eps_ref, eps = eps[:1], eps[1:]
                    reference = scheduler.step(eps_ref, t, reference).prev_sample
                if guided:
                    eps_null, eps_cond = eps.chunk(2)
                    eps = eps_null + guidance_scale * (eps_cond - eps_null)
                latents = scheduler.step(eps, t, latents).prev_sample
                if callback_on_step_end is not None:
                    out = callback_on_step_end(self, i, t, {"latents": latents}) or {}
                    latents = out.get("latents", latents)
                bar.update()
        after = self.decode(latents)
        if remembered is not None:
            base_crop = remembered[1]
        else:
            base_crop = self.decode(reference) if inverted else before
            if key is not None:
                self._inversion_memo = {key: (start, base_crop)}  # the last crop only
        timings["diffusion"] = time.perf_counter() - t0

        # 7. paste inside the feathered face mask
        t0 = time.perf_counter()
        mask = face_mask(points, edited.shape, feather=feather)
        result = self.paste(edited, base_crop, after, matrix, mask, detail)
        timings["paste"] = time.perf_counter() - t0

        images = [result]
        if output_type == "pil":
            from PIL import Image

            images = [Image.fromarray(result)]
        self.maybe_free_model_hooks()
        if not return_dict:
            return images, edited, mask
        return AUEditOutput(images, edited, mask, (before, after, base_crop), cond, timings, edit, alpha)


def refine_target(emotion: str, intensity: float = 1.0) -> np.ndarray:
    """``(107,)`` condition of an emotion at an intensity (a convenience for scripts and the benchmark)."""
    return au_condition(EmotionCode.from_emotion(emotion, intensity))[0]
