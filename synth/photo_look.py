"""What the repaint steps measure on an unedited photo around one face, measured once per photo.

The mouth, lip-seal and lid painters read the photo's blur, skin and lip colours, grain, each eye's lash band and
whites, the light on its teeth. No edit changes them, yet each edit measured them again: a face edited many times
(the edit bench, a talking portrait's frames, the studio's sliders) now measures them once, on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

import numpy as np

from facecraft.rigs.errors import ParameterError

from .photo_blur import photo_blur

T = TypeVar("T")

#: Skin luma (0..255) under which a face's photo counts as underexposed. Light the painters add (drawn teeth, the lit
#: wall of a crease) is set against a normally lit face's; in a darker photo it dims with :func:`exposure`, or it glows
#: (a 0.08-exposure FRLL portrait: teeth at five times the skin, a crease's bulge a white spot). The darkest skin of the
#: tuning photos in normal light measures 71 (FRLL calibration person 082).
DIM_SKIN = 60.0


def exposure(skin_luma: float) -> float:
    """1 for a normally lit face, ``skin_luma / DIM_SKIN`` for an underexposed one (:data:`DIM_SKIN`)."""
    return float(np.clip(skin_luma / DIM_SKIN, 0.0, 1.0))


class PhotoLook:
    """Measurements of one photo around one face, each computed on first use and kept.

    Parameters
    ----------
    image : np.ndarray
        ``(H, W, 3)`` uint8 RGB, the unedited photo (not copied: it must not change while the look is used).
    src : np.ndarray
        ``(468, 2)`` pixel positions of the face's mesh points in it.
    blur : float, optional
        The photo's own blur when the caller has measured it (:func:`~facecraft.synth.photo_blur.photo_blur`).
    """

    def __init__(self, image: np.ndarray, src: np.ndarray, *, blur: float | None = None) -> None:
        self.image = image
        self.src = np.asarray(src, np.float64)
        self._measured: dict[Hashable, object] = {}
        if blur is not None:
            self._measured["blur"] = float(blur)

    def measure(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The measurement named ``key``: ``compute()`` the first time, the kept value afterwards."""
        if key not in self._measured:
            self._measured[key] = compute()
        return self._measured[key]  # type: ignore[return-value]

    @property
    def blur(self) -> float:
        """The photo's own blur around the brows and eyes, a Gaussian sigma in pixels."""
        return self.measure("blur", lambda: photo_blur(self.image, self.src))

    @property
    def wears_glasses(self) -> bool:
        """Whether the face wears glasses (:func:`facecraft.eval.eyewear.wears_glasses`), measured once."""
        from facecraft.eval.eyewear import wears_glasses

        return self.measure("glasses", lambda: wears_glasses(self.image, self.src))

    @classmethod
    def of(cls, look: PhotoLook | None, image: np.ndarray, src: np.ndarray) -> PhotoLook:
        """``look`` when the caller has one for this photo and face (checked), else a new one."""
        if look is None:
            return cls(image, src)
        if not isinstance(look, PhotoLook):
            raise ParameterError(f"look: expected a PhotoLook, got {type(look).__name__}")
        if look.image.shape != image.shape or look.src.shape != np.shape(src) or not np.allclose(look.src, src):
            raise ParameterError("look: measured on another photo or face (its image shape or mesh points differ)")
        return look
