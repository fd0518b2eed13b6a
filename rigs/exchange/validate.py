"""Run the Khronos glTF validator (npm ``gltf-validator``, a JavaScript library) on a glTF/GLB file.

The validator has no command line, so ``tools/validate_gltf.mjs`` in the checkout calls its ``validateBytes``
and prints the JSON report; this module runs that script with Node. The Makefile installs the package with
``npm ci`` (from ``package.json`` / ``package-lock.json``) into ``node_modules`` beside the script.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from ..errors import FileFormatError, OptionalDependencyError, require_file

# rigs/exchange/validate.py -> checkout root
_REPO = Path(__file__).resolve().parents[2]
SCRIPT_ENV = "FACECRAFT_GLTF_VALIDATOR_SCRIPT"
_INSTALL = "install Node.js (Debian: `apt-get install nodejs npm`) and run `npm ci` in the facecraft checkout"


def validator_script() -> Path:
    """Path of ``validate_gltf.mjs`` (``$FACECRAFT_GLTF_VALIDATOR_SCRIPT`` overrides the checkout's copy)."""
    return Path(os.environ.get(SCRIPT_ENV) or _REPO / "tools" / "validate_gltf.mjs")


def validator_available() -> bool:
    """Whether ``node``, the script and the ``gltf-validator`` package are all present (no process is run)."""
    script = validator_script()
    return (
        shutil.which("node") is not None
        and script.is_file()
        and any((d / "node_modules" / "gltf-validator").is_dir() for d in script.resolve().parents)
    )


def validate_gltf(path: str | os.PathLike, *, max_issues: int = 100, timeout: float = 120.0) -> dict:
    """Validate a ``.glb`` / ``.gltf`` file with the Khronos validator.

    Parameters
    ----------
    path : path-like
        The file to check (external ``uri`` resources are not loaded and are reported as issues).
    max_issues : int
        Most messages the report lists (counts stay exact).
    timeout : float
        Seconds before the Node process is stopped.

    Returns
    -------
    dict
        The validator's report (``issues``, ``info``, ``validatorVersion`` ...) with ``numErrors``,
        ``numWarnings``, ``numInfos``, ``numHints`` and ``messages`` copied to the top level.

    Raises
    ------
    OptionalDependencyError
        When Node or the npm package ``gltf-validator`` is missing (names ``npm ci``).
    FileFormatError
        When the validator cannot parse the file at all or prints no report.
    """
    path = require_file(path, "glTF file")
    node = shutil.which("node")
    script = validator_script()
    if node is None:
        raise OptionalDependencyError(f"validating {path} needs the `node` executable, not found on PATH: {_INSTALL}")
    if not script.is_file():
        raise OptionalDependencyError(f"validating {path}: validator script {script} not found (set ${SCRIPT_ENV})")
    try:
        proc = subprocess.run(
            [node, str(script), str(path), str(int(max_issues))], capture_output=True, text=True, timeout=timeout,
            check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as e:
        raise FileFormatError(f"{path}: glTF validator did not finish within {timeout} s") from e
    err = proc.stderr.strip()
    if proc.returncode == 3:
        raise OptionalDependencyError(f"validating {path}: npm package gltf-validator missing ({err}); {_INSTALL}")
    if proc.returncode != 0:
        raise FileFormatError(f"{path}: glTF validator failed (exit {proc.returncode}): {err}")
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        raise FileFormatError(f"{path}: glTF validator printed no JSON report ({e}); stderr: {err}") from e
    issues = report.get("issues", {})
    for key in ("numErrors", "numWarnings", "numInfos", "numHints", "messages"):
        report[key] = issues.get(key, [] if key == "messages" else 0)
    return report


def format_issues(report: dict, *, max_severity: int = 1) -> str:
    """One line per message of severity ``<= max_severity`` (0 error, 1 warning, 2 info, 3 hint)."""
    names = {0: "error", 1: "warning", 2: "info", 3: "hint"}
    return "\n".join(
        f"{names.get(m.get('severity'), '?')} {m.get('code')} at {m.get('pointer', '?')}: {m.get('message')}"
        for m in report.get("messages", [])
        if m.get("severity", 0) <= max_severity
    )
