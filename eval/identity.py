"""Identity distance: does an edited photo still show the same person?

Uses dlib's ResNet face descriptor (128-d, trained so that photos of one person lie within 0.6 of each
other in Euclidean distance; the weights ship in ``face-recognition-models``) on faces found by dlib's
HOG frontal detector and aligned by its 5-point shape predictor. When HOG misses a face (strong tilt or
turn), the same five points are read off MediaPipe Face Landmarker's mesh instead, and the result says so.
Measured on ../shared/data/portraits (``facecraft bench identity``): all 15 same-person pairs < 0.6
(0.28-0.53), all 481 different-person pairs > 0.6 (0.64-1.11).

Folder mode compares same-named files in two folders (source vs edited) and reports files without a
partner, corrupt files and faceless images as skips.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facecraft.rigs.assets import shared_data_dir
from facecraft.rigs.errors import MissingFileError, NoFaceError, ParameterError

from . import dlib_faces
from .faces import default_analyzer
from .images import load_image, valid_image
from .results import Skip, paired_files, run_guarded, summarize

logger = logging.getLogger(__name__)

#: dlib's decision threshold: descriptors closer than this are taken as the same person.
SAME_PERSON_THRESHOLD = 0.6


@dataclass(frozen=True)
class IdentityResult:
    """Identity distance between two face images.

    Attributes
    ----------
    distance : float
        Euclidean distance of the two 128-d descriptors (0 = identical; same person typically 0.3-0.5).
    same_person : bool
        ``distance < threshold``.
    threshold : float
        The threshold used (default 0.6).
    a, b : str
        Names of the two images (paths in folder mode).
    detectors : tuple of str
        Which detector found each face: ``"hog"`` or ``"mediapipe"`` (fallback).
    """

    distance: float
    same_person: bool
    threshold: float
    a: str = "a"
    b: str = "b"
    detectors: tuple[str, str] = ("hog", "hog")


@dataclass
class IdentityFolderResult:
    """Identity distances over pairs of same-named images in two folders.

    Attributes
    ----------
    results : list of IdentityResult
        One per pair that went through, sorted by name.
    skipped : list of Skip
        Unpaired files, corrupt files, images without a face.
    same_person_rate : float
        Share of compared pairs judged the same person (NaN when none went through).
    distances : dict
        :func:`~facecraft.eval.results.summarize` of the distances.
    """

    results: list[IdentityResult]
    skipped: list[Skip] = field(default_factory=list)

    @property
    def same_person_rate(self) -> float:
        return float(np.mean([r.same_person for r in self.results])) if self.results else float("nan")

    @property
    def distances(self) -> dict[str, float]:
        return summarize(r.distance for r in self.results)


class IdentityJudge:
    """dlib face descriptors and distances between them (calls are serialised: threads may share one).

    Parameters
    ----------
    threshold : float
        Same-person threshold on the descriptor distance.
    max_side : int
        Images are shrunk to at most this many pixels on the longer side for detection only (HOG on a
        large photo is slow); landmarks and descriptors use the full image.
    upsample : int
        Most HOG pyramid upsampling steps, tried only when fewer found nothing (0 finds faces of about
        80 px and up in the detection image, 1 down to about 40 px).
    detector : {"auto", "hog", "mediapipe"}
        ``"auto"``: dlib's HOG detector and 5-point predictor, MediaPipe's landmarks when HOG finds no face;
        ``"hog"``: HOG only; ``"mediapipe"``: MediaPipe's landmarks only.
    num_jitters : int
        dlib's re-sampling count per descriptor (0 = one pass; higher is slower and slightly steadier).
    """

    def __init__(
        self,
        *,
        threshold: float = SAME_PERSON_THRESHOLD,
        max_side: int = 640,
        upsample: int = 1,
        detector: str = "auto",
        num_jitters: int = 0,
    ) -> None:
        if not 0.0 < threshold < 2.0:
            raise ParameterError(f"threshold: expected a distance in (0, 2), got {threshold}")
        if detector not in ("auto", "hog", "mediapipe"):
            raise ParameterError(f"detector: expected 'auto', 'hog' or 'mediapipe', got {detector!r}")
        if max_side < 64:
            raise ParameterError(f"max_side: expected at least 64 pixels, got {max_side}")
        self._detector = dlib_faces.hog_detector()
        self._shape5 = dlib_faces.shape_predictor_5()
        dlib_faces.face_encoder()  # load now: a missing model file fails here, not on the first image
        self.threshold = float(threshold)
        self.max_side = int(max_side)
        self.upsample = int(upsample)
        self.detector = detector
        self.num_jitters = int(num_jitters)

    def _face_shape(self, img: np.ndarray, name: str):
        """dlib 5-point shape of the main face in full-image pixels, and which detector found it."""
        dlib = dlib_faces.dlib()
        h, w = img.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        small = img
        if scale < 1.0:
            import cv2

            small = cv2.resize(img, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        rects, scores = [], []
        hog_steps = self.upsample + 1 if self.detector != "mediapipe" else 0
        for steps in range(hog_steps):  # cheapest first: upsample only when nothing was found
            rects, scores, _ = self._detector.run(small, steps, 0.0)
            if rects:
                break
        if rects:
            # Largest faces first; among those of similar size (>= half the largest area) the most confident.
            areas = np.array([r.area() for r in rects], dtype=np.float64)
            cands = [i for i in range(len(rects)) if areas[i] >= 0.5 * areas.max()]
            r = rects[max(cands, key=lambda i: scores[i])]
            box = [r.left() / scale, r.top() / scale, r.right() / scale, r.bottom() / scale]
            return self._shape5(img, dlib.rectangle(*(round(v) for v in box))), "hog"
        if self.detector != "hog":
            faces = default_analyzer().analyze(img, name=name)
            if faces:
                # The five points read off MediaPipe's mesh hold up under strong roll, unlike a box.
                return dlib_faces.shape_from_mediapipe(faces[0].landmarks, faces[0].box), "mediapipe"
        raise NoFaceError(f"no face found in {name} (shape {img.shape}) by the face detector ({self.detector})")

    def descriptor_with_detector(self, image, *, name: str | None = None) -> tuple[np.ndarray, str]:
        """Like :meth:`descriptor`, also returning the detector that found the face."""
        if isinstance(image, str | os.PathLike):
            img, label = load_image(image), name or str(image)
        else:
            label = name or "image"
            img = valid_image(image, name=label)
        with dlib_faces.DLIB_LOCK:  # dlib's detector and networks are not re-entrant
            shape, used = self._face_shape(img, label)
            desc = dlib_faces.descriptor(img, shape, num_jitters=self.num_jitters)
        return desc, used

    def descriptor(self, image, *, name: str | None = None) -> np.ndarray:
        """128-d descriptor ``(128,)`` float32 of the main face of an RGB uint8 image or image file.

        Raises
        ------
        NoFaceError
            No face found (message names the image); FileFormatError / MissingFileError for bad paths.
        """
        return self.descriptor_with_detector(image, name=name)[0]

    def distance(self, a, b, *, names: tuple[str, str] | None = None) -> IdentityResult:
        """Identity distance between two images (arrays or paths); see :class:`IdentityResult`."""
        na, nb = names or (
            str(a) if isinstance(a, str | os.PathLike) else "a",
            str(b) if isinstance(b, str | os.PathLike) else "b",
        )
        da, ua = self.descriptor_with_detector(a, name=na)
        db, ub = self.descriptor_with_detector(b, name=nb)
        return self.result_from_descriptors(da, db, names=(na, nb), detectors=(ua, ub))

    def result_from_descriptors(
        self, da: np.ndarray, db: np.ndarray, *, names: tuple[str, str] = ("a", "b"), detectors=("hog", "hog")
    ) -> IdentityResult:
        """:class:`IdentityResult` of two descriptors ``(128,)`` already computed."""
        d = float(np.linalg.norm(np.asarray(da, np.float64) - np.asarray(db, np.float64)))
        return IdentityResult(
            distance=d,
            same_person=d < self.threshold,
            threshold=self.threshold,
            a=names[0],
            b=names[1],
            detectors=tuple(detectors),
        )

    def compare_folders(self, folder_a: str | os.PathLike, folder_b: str | os.PathLike) -> IdentityFolderResult:
        """Distances between same-named images of two folders (e.g. sources and their edits).

        Never stops on a bad file: unpaired, corrupt and faceless images are reported in ``skipped``.
        """
        pairs, unmatched = paired_files(folder_a, folder_b)
        done, skipped = run_guarded(
            pairs,
            lambda pair: self.distance(pair[0], pair[1]),
            label=lambda pair: f"{pair[0]} | {pair[1]}",
            desc="identity",
        )
        return IdentityFolderResult(results=[r for _, r in done], skipped=unmatched + skipped)


def identity_distance(a, b, *, judge: IdentityJudge | None = None) -> IdentityResult:
    """Identity distance of two images (arrays or paths) with a default :class:`IdentityJudge`."""
    return (judge or IdentityJudge()).distance(a, b)


def identity_folder(
    folder_a: str | os.PathLike, folder_b: str | os.PathLike, *, judge: IdentityJudge | None = None
) -> IdentityFolderResult:
    """:meth:`IdentityJudge.compare_folders` with a default judge."""
    return (judge or IdentityJudge()).compare_folders(folder_a, folder_b)


def all_pairs_identity(
    files: list[Path], people: dict[str, str], *, judge: IdentityJudge | None = None
) -> dict[str, object]:
    """Descriptor distances of every pair of ``files``, split by whether ``people`` names the same person.

    Parameters
    ----------
    files : list of Path
        Photos; each file name must be a key of ``people``.
    people : dict
        ``{file name: person id}``.

    Returns
    -------
    dict
        ``same`` / ``different`` distance summaries and sorted lists (``same_distances``, ...),
        ``same_below_threshold`` and
        ``different_above_threshold`` rates, the worst pairs of each kind, skips, and the per-image time.
    """
    judge = judge or IdentityJudge()
    start = time.perf_counter()
    done, skipped = run_guarded(files, lambda p: judge.descriptor_with_detector(p), label=str, desc="descriptors")
    per_image_s = (time.perf_counter() - start) / max(len(files), 1)
    same, diff = [], []
    for (pa, (da, _)), (pb, (db, _)) in itertools.combinations(done, 2):
        d = float(np.linalg.norm(da.astype(np.float64) - db.astype(np.float64)))
        (same if people[pa.name] == people[pb.name] else diff).append((d, pa.name, pb.name))
    t = judge.threshold
    return {
        "images": len(files),
        "described": len(done),
        "detectors": {k: sum(1 for _, (_, u) in done if u == k) for k in ("hog", "mediapipe")},
        "skipped": [s.to_dict() for s in skipped],
        "threshold": t,
        "same_pairs": len(same),
        "different_pairs": len(diff),
        "same_below_threshold": float(np.mean([d < t for d, *_ in same])) if same else float("nan"),
        "different_above_threshold": float(np.mean([d > t for d, *_ in diff])) if diff else float("nan"),
        "same": summarize(d for d, *_ in same),
        "different": summarize(d for d, *_ in diff),
        "same_distances": sorted(round(d, 4) for d, *_ in same),
        "different_distances": sorted(round(d, 4) for d, *_ in diff),
        "worst_same": sorted(same, reverse=True)[:3],
        "worst_different": sorted(diff)[:3],
        "seconds_per_image": per_image_s,
    }


def bench_identity(out_dir: Path) -> dict[str, object]:
    """Benchmark: all-pairs identity distances on ``../shared/data/portraits`` (``people.csv`` says who is who).

    Writes ``identity_distances.png`` (histograms of same/different-person distances) into ``out_dir``.
    """
    import csv

    folder = shared_data_dir() / "data" / "portraits"
    if not (folder / "people.csv").is_file():
        raise MissingFileError(f"identity benchmark: {folder / 'people.csv'} not found (set $FACECRAFT_SHARED)")
    with open(folder / "people.csv", newline="") as f:
        people = {row["file"]: row["person_id"] for row in csv.DictReader(f)}
    files = [folder / n for n in sorted(people)]
    report = all_pairs_identity(files, people)
    print(
        f"identity: {report['described']}/{report['images']} photos described "
        f"({report['seconds_per_image'] * 1000:.0f} ms/image); same person < {report['threshold']}: "
        f"{report['same_below_threshold']:.1%} of {report['same_pairs']} pairs "
        f"(median {report['same']['median']:.3f}, max {report['same']['max']:.3f}); different > threshold: "
        f"{report['different_above_threshold']:.1%} of {report['different_pairs']} pairs "
        f"(median {report['different']['median']:.3f}, min {report['different']['min']:.3f})"
    )
    try:
        _plot_histograms(report, files, people, Path(out_dir) / "identity_distances.png")
    except ImportError as e:  # matplotlib is optional for the numbers
        logger.warning("no histogram written: %s", e)
    return report


def _plot_histograms(report: dict, files: list[Path], people: dict[str, str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    bins = np.linspace(0.0, 1.2, 49)
    for key, colour in (("same", "tab:green"), ("different", "tab:red")):
        values = report[f"{key}_distances"]
        ax.hist(values, bins=bins, color=colour, alpha=0.6, density=True, label=f"{key} person (n={len(values)})")
    ax.axvline(report["threshold"], color="black", ls="--", label=f"threshold {report['threshold']}")
    ax.set_xlabel("descriptor distance")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    ax.set_title(f"identity distances on {len(files)} portraits ({len(set(people.values()))} people)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
