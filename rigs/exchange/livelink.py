"""Live Link Face (Epic's iPhone app) CSV: writer and reader.

Layout (see ``shared/assets/ARKIT-52.md``): 63 columns, ``Timecode, BlendShapeCount``, the 52 ARKit names
with a capital first letter in the app's own order (which lists ``JawForward, JawRight, JawLeft`` and
``MouthPucker, MouthRight, MouthLeft``, unlike Apple's order), then 9 rotations ``HeadYaw, HeadPitch,
HeadRoll, LeftEyeYaw, LeftEyePitch, LeftEyeRoll, RightEyeYaw, RightEyePitch, RightEyeRoll``.
``BlendShapeCount`` is 61. ``Timecode`` is ``HH:MM:SS:FF.fff`` where ``FF.fff`` counts frames (with a
sub-frame fraction) at the app's timecode rate (60 by default).

The reader maps columns by header name (case-insensitive, aliases allowed), never by position.

Rotations: Epic documents neither unit nor sign. In the real iPhone take in ``shared/data/capture``, eye
values span about -0.66..0.27 and ``eyeLookOut`` = 1 goes with about 0.6, so they read as radians (the
default ``rotation_unit``). Their signs follow the face with X mirrored: ``LeftEyeYaw`` falls as
``eyeLookOutLeft - eyeLookInLeft`` rises (r = -0.99) while ``LeftEyePitch`` rises with ``eyeLookDown - eyeLookUp``
(r = +0.98). facecraft's convention (DESIGN.md: positive yaw turns toward the subject's left, positive pitch
tips down, right-handed) therefore negates yaw and roll and keeps pitch, for the head and both eyes; the
writer applies the same map back, so files round-trip. :class:`~facecraft.rigs.animation.FaceAnimation`
holds degrees.
"""

from __future__ import annotations

import csv
import logging
import re
from pathlib import Path

import numpy as np

from ..arkit import ARKIT_INDEX, ARKIT_NAMES, NUM_ARKIT, canonical_arkit_name, livelink_name
from ..errors import FacecraftError, FileFormatError, ParameterError, require_file

log = logging.getLogger(__name__)

# Apple's order with the two pairs the app lists in the other order.
_LLF_ORDER: tuple[str, ...] = tuple(
    {"jawLeft": "jawRight", "jawRight": "jawLeft", "mouthLeft": "mouthRight", "mouthRight": "mouthLeft"}.get(n, n)
    for n in ARKIT_NAMES
)
LIVELINK_BLENDSHAPES: tuple[str, ...] = tuple(livelink_name(n) for n in _LLF_ORDER)
LIVELINK_ROTATIONS: tuple[str, ...] = (
    "HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
    "RightEyeYaw", "RightEyePitch", "RightEyeRoll",
)  # fmt: skip
LIVELINK_HEADER: tuple[str, ...] = ("Timecode", "BlendShapeCount", *LIVELINK_BLENDSHAPES, *LIVELINK_ROTATIONS)
BLENDSHAPE_COUNT = NUM_ARKIT + len(LIVELINK_ROTATIONS)  # 61
_TIMECODE_RATES = (24.0, 25.0, 30.0, 48.0, 50.0, 60.0, 120.0)
_ROTATION_UNITS = {"radians": 180.0 / np.pi, "degrees": 1.0}
# LLF yaw/pitch/roll -> facecraft's (see the module docstring): X mirrored flips yaw and roll.
_ROTATION_SIGNS = np.array([-1.0, 1.0, -1.0] * 3)
_TIMECODE = re.compile(r"^\s*(\d+):(\d{1,2}):(\d{1,2})[:;.](\d+(?:\.\d*)?)\s*$")


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


_ROTATION_KEYS = {_key(n): i for i, n in enumerate(LIVELINK_ROTATIONS)}
_TIMECODE_KEYS = {"timecode", "time", "timestamp"}
_COUNT_KEYS = {"blendshapecount", "count"}


def format_timecode(seconds: float, fps: float) -> str:
    """``HH:MM:SS:FF.fff`` for a time in seconds, ``FF.fff`` counting frames at ``fps``."""
    whole = int(np.floor(seconds + 1e-9))
    frames = max(0.0, (seconds - whole) * fps)
    if round(frames, 3) >= fps:  # rounding carried into the next second
        whole, frames = whole + 1, 0.0
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}:{s:02d}:{frames:06.3f}"


def parse_timecode(text: str, rate: float) -> float:
    """Seconds of an ``HH:MM:SS:FF.fff`` timecode whose frame field counts at ``rate`` frames per second."""
    m = _TIMECODE.match(text)
    if m is None:
        raise ParameterError(f"timecode {text!r}: expected HH:MM:SS:FF.fff")
    h, mi, s, ff = m.groups()
    return int(h) * 3600 + int(mi) * 60 + int(s) + float(ff) / rate


def write_livelink_csv(
    anim, path: str | Path, *, swap_mouth_left_right: bool = False, rotation_unit: str = "radians",
    start: float | None = None, decimals: int = 10,
) -> Path:  # fmt: skip
    """Write ``anim`` as a Live Link Face CSV (63 columns, the app's header and column order).

    Parameters
    ----------
    anim : FaceAnimation
        Curves ``(T, 52)``; head/eye rotations (degrees) when present, zeros otherwise.
    path : path-like
        Output ``.csv``.
    swap_mouth_left_right : bool
        Write mouthLeft's values under MouthRight and the reverse (what some app versions do).
    rotation_unit : {"radians", "degrees"}
        Unit of the 9 rotation columns in the file (signs as the app writes them: yaw and roll negated).
    start : float, optional
        Time of the first frame in seconds (the timecode of row 0); default the take's own when ``anim`` was read
        from one (``meta["start_seconds"]``: a CSV converted to CSV keeps its time of day), else 0.
    decimals : int
        Digits after the point (the app writes 10). Values that round to zero are written without a sign.

    The file's rate is ``anim.fps``: the app records at 60 fps, so a file meant to stand in for a take
    should hold a 60 fps animation (``facecraft animate`` writes ``.csv`` at 60 fps by default).
    """
    if rotation_unit not in _ROTATION_UNITS:
        raise ParameterError(f"rotation_unit={rotation_unit!r}; expected one of {sorted(_ROTATION_UNITS)}")
    curves = np.array(anim.curves, dtype=np.float64)
    if swap_mouth_left_right:
        curves = _swap_mouth(curves)
    t = anim.num_frames
    rot = np.zeros((t, len(LIVELINK_ROTATIONS)))
    if anim.head_rotation is not None:
        rot[:, :3] = anim.head_rotation
    if anim.eye_rotation is not None:
        rot[:, 3:] = anim.eye_rotation
    rot = rot * _ROTATION_SIGNS / _ROTATION_UNITS[rotation_unit]
    order = [ARKIT_INDEX[n] for n in _LLF_ORDER]
    # Rounded first, then + 0.0: a value that rounds to zero (or a -0.0) is written "0.000...", never with a
    # minus sign, as the app writes it.
    values = np.round(np.concatenate([curves[:, order], rot], axis=1), decimals) + 0.0
    if start is None:
        own = anim.meta.get("start_seconds")
        start = float(own) if isinstance(own, (int, float)) and np.isfinite(own) and own >= 0 else 0.0
    times = start + anim.times()
    tc_rate = _writer_timecode_rate(anim.fps)
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as f:
            f.write(",".join(LIVELINK_HEADER) + "\n")
            # one format string per row: formatting cell by cell doubled the writer's time in batch runs
            row = "{}," + str(BLENDSHAPE_COUNT) + "," + ",".join([f"{{:.{decimals}f}}"] * values.shape[1]) + "\n"
            f.writelines(row.format(format_timecode(times[i], tc_rate), *values[i].tolist()) for i in range(t))
    except OSError as e:
        raise FacecraftError(f"{path}: could not write Live Link Face CSV ({e})") from e
    return path


def _writer_timecode_rate(fps: float) -> float:
    """The rate the frame field counts at: the take's own whole rate (59.94 fps -> 60) where it is a timecode rate
    the reader knows; else 60, the app's, whose field then reaches 50 and tells the reader 60, and 120 below 6 fps,
    where it would not. A field counting at 240 or 12 was read back at 60 fps, the take's timing stretched."""
    whole = float(round(fps))
    if whole in _TIMECODE_RATES:
        return whole
    return 60.0 if fps >= 6 else 120.0


def _swap_mouth(curves: np.ndarray) -> np.ndarray:
    out = curves.copy()
    left, right = ARKIT_INDEX["mouthLeft"], ARKIT_INDEX["mouthRight"]
    out[:, [left, right]] = curves[:, [right, left]]
    return out


def _classify_columns(header: list[str], path: Path, strict: bool) -> tuple[int | None, int | None, dict, dict]:
    """Column indices: timecode, count, {ARKit index: column}, {rotation index: column}."""
    tc = count = None
    shapes: dict[int, int] = {}
    rots: dict[int, int] = {}
    unknown = []
    for col, name in enumerate(header):
        k = _key(name)
        if k in _TIMECODE_KEYS and tc is None:
            tc = col
        elif k in _COUNT_KEYS and count is None:
            count = col
        elif k in _ROTATION_KEYS:
            rots[_ROTATION_KEYS[k]] = col
        elif (arkit := canonical_arkit_name(name, strict=False)) is not None:
            if ARKIT_INDEX[arkit] in shapes:
                raise FileFormatError(f"{path}: column {name!r} repeats blendshape {arkit}")
            shapes[ARKIT_INDEX[arkit]] = col
        elif name.strip():
            unknown.append(name)
    if unknown:
        shown = ", ".join(repr(u[:40]) for u in unknown[:5]) + (
            f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        )
        msg = f"{path}: unknown column(s) {shown}; expected Live Link Face columns"
        if strict:
            raise FileFormatError(msg + f" (Timecode, BlendShapeCount, {', '.join(LIVELINK_HEADER[2:5])}, ...)")
        log.warning("%s; ignored", msg)
    if not shapes:
        raise FileFormatError(f"{path}: no ARKit blendshape column found in header {header[:5]}...")
    missing = [livelink_name(ARKIT_NAMES[i]) for i in range(NUM_ARKIT) if i not in shapes]
    if missing:
        log.warning("%s: %d blendshape column(s) missing, read as 0: %s", path, len(missing), ", ".join(missing))
    return tc, count, shapes, rots


_COMMON_RATES = (23.976, 24.0, 25.0, 29.97, 30.0, 48.0, 50.0, 59.94, 60.0, 120.0)


def _snap_rate(mean_step: float, steps: np.ndarray) -> float:
    """Frame rate from the mean step (median when frames were dropped), snapped to a common rate within 0.5%."""
    step = float(np.median(steps)) if np.max(steps) > 1.5 * np.median(steps) else mean_step
    est = 1.0 / step
    near = min(_COMMON_RATES, key=lambda r: abs(r - est))
    return near if abs(near - est) < 0.005 * est else est


def _timecode_rate(frame_fields: list[float], *, wrapped: bool = True) -> float | None:
    """The app's timecode rate: the smallest common rate above every frame number seen; None when the take never
    reaches the end of a second of timecode (``wrapped`` False) below 60 frames: any rate above its last frame
    number fits it (44 frames at 60 fps read as 48)."""
    top = max(frame_fields, default=0.0)
    if wrapped and top == 0:
        return 60.0  # every row on a whole second (a 1 fps take): the times are the same at any rate
    # the field shows the rate once it wraps into the next second, or reaches 59 (a whole 60 fps second)
    if top < 23 or (not wrapped and top < 59):
        return None
    return next((r for r in _TIMECODE_RATES if top < r), 120.0)


def read_livelink_csv(
    path: str | Path, *, strict: bool = True, swap_mouth_left_right: bool = False, fps: float | None = None,
    rotation_unit: str = "radians",
) -> dict:  # fmt: skip
    """Read a Live Link Face CSV by header names into :class:`FaceAnimation` keyword arguments.

    Parameters
    ----------
    path : path-like
        The CSV (the app's export, or any CSV with a header of LLF/ARKit names).
    strict : bool
        Unknown columns raise :class:`FileFormatError` (naming them); with ``False`` they are ignored.
    swap_mouth_left_right : bool
        Swap mouthLeft/mouthRight values (a known Live Link Face app bug in some versions).
    fps : float, optional
        Frame rate of the rows and of the timecode's frame field; estimated from the timecodes when omitted
        (rows / fps when the timecodes are missing or unusable).
    rotation_unit : {"radians", "degrees"}
        Unit of the rotation columns in the file; they are returned in degrees, in facecraft's sign
        convention (yaw and roll negated, see the module docstring).

    Returns
    -------
    dict
        ``curves`` (T, 52) float32 in Apple order, ``fps``, ``head_rotation`` (T, 3) / ``eye_rotation``
        (T, 6) degrees or None, ``meta`` (source, first timecode, skipped rows).
    """
    if rotation_unit not in _ROTATION_UNITS:
        raise ParameterError(f"rotation_unit={rotation_unit!r}; expected one of {sorted(_ROTATION_UNITS)}")
    path = require_file(path, "Live Link Face CSV")
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            first = f.readline()
            f.seek(0)
            # a spreadsheet's export may use ';' or tabs: the header's most frequent separator decides
            delimiter = max((",", ";", "\t"), key=first.count)
            rows = list(csv.reader(f, delimiter=delimiter))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise FileFormatError(f"{path}: not a readable CSV ({e})") from e
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise FileFormatError(f"{path}: empty file, expected a Live Link Face header row")
    if delimiter != ",":
        # the ';' export of a spreadsheet set to a decimal comma writes 0,25: no comma separates its cells
        rows[1:] = [[c.replace(",", ".") for c in r] for r in rows[1:]]
    header = [h.strip() for h in rows[0]]
    tc_col, count_col, shape_cols, rot_cols = _classify_columns(header, path, strict)

    numeric = sorted({*shape_cols.values(), *rot_cols.values()})
    where = {c: j for j, c in enumerate(numeric)}
    timecodes, values, skipped, empty = [], [], 0, 0
    for line, row in enumerate(rows[1:], start=2):
        if count_col is not None and count_col < len(row):
            try:
                count = int(float(row[count_col]))
            except ValueError:
                raise FileFormatError(f"{path}:{line}: BlendShapeCount {row[count_col]!r} is not a number") from None
            if count == 0:
                skipped += 1
                continue
        if len(row) != len(header):
            raise FileFormatError(f"{path}:{line}: {len(row)} fields, the header has {len(header)}")
        try:
            values.append([float(row[c]) if row[c].strip() else 0.0 for c in numeric])
        except ValueError as e:
            raise FileFormatError(f"{path}:{line}: non-numeric value ({e})") from None
        empty += sum(not row[c].strip() for c in numeric)
        timecodes.append(row[tc_col] if tc_col is not None else "")
    if empty:
        log.warning("%s: %d empty cell(s) read as 0", path, empty)
    if skipped:
        log.warning("%s: skipped %d row(s) with BlendShapeCount 0 (failed capture frames)", path, skipped)
    if not values:
        raise FileFormatError(f"{path}: no data rows")
    table = np.asarray(values, dtype=np.float64).reshape(len(values), len(numeric))
    n = table.shape[0]
    curves = np.zeros((n, NUM_ARKIT), np.float32)
    for i, col in shape_cols.items():
        curves[:, i] = table[:, where[col]]
    lo, hi = float(curves.min()), float(curves.max())
    if lo < -1e-3 or hi > 1 + 1e-3:
        log.warning("%s: blendshape values span [%.3f, %.3f]; clipped to [0, 1]", path, lo, hi)
    curves = np.clip(curves, 0.0, 1.0)
    if swap_mouth_left_right:
        curves = _swap_mouth(curves)

    rot = np.zeros((n, len(LIVELINK_ROTATIONS)), np.float32)
    for i, col in rot_cols.items():
        rot[:, i] = table[:, where[col]] * _ROTATION_UNITS[rotation_unit] * _ROTATION_SIGNS[i]
    head = rot[:, :3] if any(i < 3 for i in rot_cols) else None
    eyes = rot[:, 3:] if any(i >= 3 for i in rot_cols) else None

    fps_found, start = _frame_rate(timecodes, path, fps)
    meta = {"source": str(path), "format": "livelink-csv", "timecode_start": timecodes[0] or None,
            "start_seconds": start, "skipped_rows": skipped}  # fmt: skip
    return {"curves": curves, "fps": fps_found, "head_rotation": head, "eye_rotation": eyes, "meta": meta}


def _frame_rate(timecodes: list[str], path: Path, fps: float | None) -> tuple[float, float | None]:
    """Rows' frame rate (given, or from timecode steps) and the first row's time of day in seconds."""
    fallback = 60.0 if fps is None else float(fps)
    try:
        parts = [_TIMECODE.match(tc).groups() for tc in timecodes]
        fields = [float(p[3]) for p in parts]
        rate = (
            max(1.0, float(round(fps)))
            if fps is not None
            else _timecode_rate(fields, wrapped=len({p[:3] for p in parts}) > 1)
        )
        if rate is None:
            log.warning("%s: the take spans less than a second of timecode, which does not tell its rate; assuming "
                        "%g fps, the app's (give the rate: --input-fps, fps=)", path, fallback)  # fmt: skip
            rate = fps = fallback  # read as if given
        secs = np.array([parse_timecode(tc, rate) for tc in timecodes])
    except (AttributeError, ParameterError):
        log.warning("%s: timecodes missing or not HH:MM:SS:FF.fff; assuming %.2f fps (row / fps)", path, fallback)
        return fallback, None
    steps = np.diff(secs)
    if fps is not None or steps.size == 0:
        return fallback, float(secs[0])
    if np.any(steps <= 0) or np.median(steps) <= 0:
        log.warning("%s: timecodes do not increase; assuming %.2f fps (row / fps)", path, fallback)
        return fallback, float(secs[0])
    est = _snap_rate(float((secs[-1] - secs[0]) / steps.size) if np.all(steps > 0) else 0.0, steps)
    if np.max(steps) > 1.5 * np.median(steps):
        log.warning("%s: %d dropped frame(s) (steps up to %.1f ms); rows kept at %.3f fps", path,
                    int(np.sum(steps > 1.5 * np.median(steps))), 1e3 * np.max(steps), est)  # fmt: skip
    return est, float(secs[0])


_exporters = {"csv": write_livelink_csv}
_loaders = {"csv": read_livelink_csv}
