"""Render a frame of a GLB in Blender (a real game-pipeline client), headless, from Python.

Blender runs its own Python, so the work is done by ``tools/blender_render.py`` in the checkout, run as
``blender -b --factory-startup --python-exit-code 1 --python tools/blender_render.py -- GLB FRAME OUT.png``;
this module starts that process and returns the report the script prints (the scene rate it set from the
GLB's ``asset.extras.fps``, the imported objects with their materials, shape-key values and bounds at the
frame). Debian's ``blender`` 3.4 is enough (``apt-get install blender python3-numpy``).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from pathlib import Path

from ..errors import FacecraftError, OptionalDependencyError, ParameterError, require_file

_REPO = Path(__file__).resolve().parents[2]  # rigs/exchange/blender.py -> checkout root
SCRIPT_ENV = "FACECRAFT_BLENDER_RENDER_SCRIPT"
BLENDER_ENV = "FACECRAFT_BLENDER"
VIEWS = ("front", "three_quarter", "profile")
FOCUS = ("face", "mouth", "eyes")
ENGINES = ("eevee", "workbench", "cycles")
_REPORT = "FACECRAFT_RENDER "


def render_script() -> Path:
    """Path of ``blender_render.py`` (``$FACECRAFT_BLENDER_RENDER_SCRIPT`` overrides the checkout's copy)."""
    return Path(os.environ.get(SCRIPT_ENV) or _REPO / "tools" / "blender_render.py")


def blender_executable() -> str | None:
    """``$FACECRAFT_BLENDER`` or ``blender`` on PATH; None when neither exists."""
    return shutil.which(os.environ.get(BLENDER_ENV) or "blender")


def blender_available() -> bool:
    """Whether a Blender executable and the render script are present (no process is run)."""
    return blender_executable() is not None and render_script().is_file()


_NO_NUMPY = "No module named 'numpy'"
_NUMPY_HINT = (
    "Blender's Python cannot import numpy, which its glTF importer needs (Debian: apt-get install python3-numpy)"
)


@functools.cache
def blender_imports_gltf() -> bool:
    """Whether Blender is there and its Python can import numpy, without which its glTF importer fails (Debian's
    ``blender`` does not pull in ``python3-numpy``). Starts Blender once per process (a second or two)."""
    if not blender_available():
        return False
    probe = [
        blender_executable(),
        "-b",
        "--factory-startup",
        "--python-exit-code",
        "1",
        "--python-expr",
        "import numpy",
    ]
    try:
        return subprocess.run(probe, capture_output=True, timeout=120, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def render_glb_frame(
    glb: str | os.PathLike,
    frame: int,
    out: str | os.PathLike,
    *,
    view: str = "front",
    engine: str = "eevee",
    size: int = 768,
    zoom: float = 1.0,
    focus: str = "face",
    samples: int = 32,
    timeout: float = 600.0,
) -> dict:
    """Import ``glb`` into Blender with its glTF importer, go to ``frame`` and render it to ``out`` (PNG).

    Parameters
    ----------
    glb : path-like
        A GLB with a morph-target animation (facecraft's writer stores its rate in ``asset.extras.fps``,
        which the script sets as the scene rate before importing).
    frame : int
        Frame of the GLB's animation, 0 being its first key.
    out : path-like
        PNG to write (folders are created).
    view : {"front", "three_quarter", "profile"}
        Camera azimuth 0, 35 or 90 degrees toward the face's left.
    engine : {"eevee", "workbench", "cycles"}
        Blender's render engine (Eevee and Workbench need OpenGL; headless Debian falls back to Mesa's
        software renderer, about 40 s for a 768-pixel Eevee frame on 2 cores).
    size : int
        Image width and height, pixels.
    zoom : float
        Above 1 frames tighter (2 shows the mouth and eyes).
    focus : {"face", "mouth", "eyes"}
        What the camera aims at: the face's centre, or facecraft's teeth or eye parts (on a rig without them, such
        as ICT FaceKit, its ``teeth`` / ``eye_*`` materials), framed by their width.
    samples : int
        Eevee / Cycles samples.
    timeout : float
        Seconds before Blender is stopped.

    Returns
    -------
    dict
        The script's report: ``glb_fps``, ``scene_fps``, ``frame_range``, ``face`` (the face object's name),
        ``objects`` (name -> ``parent``, ``part``, ``materials``, ``shape_keys`` values at ``frame``,
        world ``bounds`` in Blender's Z-up metres), camera placement and ``out``.

    Raises
    ------
    OptionalDependencyError
        Blender or the script is missing.
    ParameterError
        An unknown ``view`` / ``engine`` or a non-positive ``size``.
    FacecraftError
        Blender failed or printed no report (the message ends with its last output lines).
    """
    glb = require_file(glb, "GLB file")
    if view not in VIEWS:
        raise ParameterError(f"view: {view!r} is not one of {', '.join(VIEWS)}")
    if focus not in FOCUS:
        raise ParameterError(f"focus: {focus!r} is not one of {', '.join(FOCUS)}")
    if engine not in ENGINES:
        raise ParameterError(f"engine: {engine!r} is not one of {', '.join(ENGINES)}")
    if size <= 0 or zoom <= 0 or samples <= 0:
        raise ParameterError(f"size, zoom and samples must be positive, got {size}, {zoom}, {samples}")
    exe, script = blender_executable(), render_script()
    if exe is None:
        raise OptionalDependencyError(
            f"rendering {glb} needs Blender: `blender` not on PATH (Debian: apt-get install blender python3-numpy; "
            f"or set ${BLENDER_ENV})"
        )
    if not script.is_file():
        raise OptionalDependencyError(f"rendering {glb}: render script {script} not found (set ${SCRIPT_ENV})")
    cmd = [exe, "-b", "--factory-startup", "--python-exit-code", "1", "--python", str(script), "--", str(glb),
           str(int(frame)), str(out), "--view", view, "--engine", engine, "--size", str(int(size)),
           "--zoom", str(float(zoom)), "--focus", focus, "--samples", str(int(samples))]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as e:
        raise FacecraftError(f"{glb}: Blender did not render frame {frame} within {timeout} s") from e
    lines = proc.stdout.splitlines()
    found = [ln[len(_REPORT) :] for ln in lines if ln.startswith(_REPORT)]
    if proc.returncode != 0 and _NO_NUMPY in proc.stdout + proc.stderr:
        raise OptionalDependencyError(f"rendering {glb}: {_NUMPY_HINT}")
    if proc.returncode != 0 or not found:
        tail = "\n".join((lines + proc.stderr.splitlines())[-15:])
        raise FacecraftError(f"{glb}: Blender failed to render frame {frame} (exit {proc.returncode}):\n{tail}")
    return json.loads(found[-1])
