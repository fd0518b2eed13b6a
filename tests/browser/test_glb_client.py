"""A web developer's view of ``facecraft animate speech.wav -o line.glb``: three.js (GLTFLoader + AnimationMixer +
WebGLRenderer, from ``node_modules/three``) in Debian's headless chromium, through ``tools/glb_client.html``.

What three.js reports at a few seek times is compared with the curves facecraft wrote: the clip's length, the morph
targets' names, every influence, the head's turn, and the console stays clean. A front view of the open-vowel frame is
left in ``outputs/test-artifacts/browser/glb-client-open.png``.
"""

from __future__ import annotations

import functools
import http.server
import sys
import threading

import numpy as np
import pytest
import soundfile as sf

from facecraft.rigs import ARKIT_INDEX, ARKIT_NAMES

from .conftest import CHROMIUM, CHROMIUM_FLAGS, REPO

sys.path.insert(0, str(REPO / "tests" / "audio2face"))
from a2f_helpers import fake_speech  # noqa: E402

PAGE = "tools/glb_client.html"
THREE = REPO / "node_modules" / "three" / "build" / "three.module.js"
# WebGL2 through ANGLE on SwiftShader (CPU); --disable-gpu falls back to the same but logs "GPU stall" driver warnings
WEBGL_FLAGS = ["--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
TOLERANCE = 1e-3
LOAD_TIMEOUT_MS = 60_000


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the page's requests are not test output
        pass


@pytest.fixture(scope="module")
def repo_url():
    """The repository root served over HTTP on a free port (the page imports three from /node_modules/)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: `make setup` installs Debian's chromium (apt-get install chromium)")
    if not THREE.is_file():
        pytest.skip(f"{THREE.relative_to(REPO)} absent: `npm ci` installs three.js (package.json)")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(REPO)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def line(tmp_path_factory):
    """``facecraft animate`` of a short speech-like line (shipped model, default rig, head motion on) to a GLB, and
    the FaceAnimation it wrote."""
    from facecraft.audio2face.animate import animate_file

    folder = tmp_path_factory.mktemp("glb_client")
    wav = folder / "speech.wav"
    sf.write(wav, fake_speech(0, repeats=1)[0], 16000)
    anim = animate_file(wav, folder / "line.glb", seed=1)
    return folder / "line.glb", anim


@pytest.fixture(scope="module")
def client(playwright, repo_url, line):
    """A chromium page with the GLB loaded in three.js; collects console warnings, errors and page errors."""
    flags = [f for f in CHROMIUM_FLAGS if f != "--disable-gpu"] + WEBGL_FLAGS
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=flags)
    page = browser.new_page(viewport={"width": 640, "height": 640})
    messages: list[str] = []
    page.on("console", lambda m: m.type in ("error", "warning") and messages.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
    page.route("**/__glb__/line.glb", lambda route: route.fulfill(path=line[0], content_type="model/gltf-binary"))
    page.goto(repo_url + PAGE)
    page.wait_for_function("window.glbClientReady === true", timeout=LOAD_TIMEOUT_MS)
    loaded = page.evaluate("url => window.glbClient.load(url)", repo_url + "__glb__/line.glb")
    yield page, loaded, messages
    browser.close()


def _seek_times(anim) -> list[float]:
    """The widest jaw's frame, and the half-frame where jawOpen changes most (the mixer's interpolation counts)."""
    jaw = anim.curves[:, ARKIT_INDEX["jawOpen"]]
    steepest = int(np.argmax(np.abs(np.diff(jaw))))
    return [int(np.argmax(jaw)) / anim.fps, (steepest + 0.5) / anim.fps]


def _curve_at(anim, name: str, t: float) -> float:
    """The curve between frames as a linear glTF sampler plays it (key i at i / fps)."""
    return float(np.interp(t, anim.times(), anim.curves[:, ARKIT_INDEX[name]]))


def _face_meshes(loaded) -> list[dict]:
    """The face's primitives: the meshes with (nearly) all 52 targets (ICT's face has 51)."""
    return [m for m in loaded["morphMeshes"] if m["count"] >= 40]


@pytest.mark.slow
def test_three_js_plays_the_clip_facecraft_wrote(client, line, artifacts):
    page, loaded, messages = client
    _, anim = line
    assert loaded["renderer"]["webgl2"], loaded["renderer"]
    clip = loaded["clip"]
    # one clip whose keys are the frames: the last key, the clip's end, is frame T-1 at (T-1) / fps
    assert clip is not None and len(loaded["nodes"]) > 1
    assert clip["duration"] == pytest.approx((anim.num_frames - 1) / anim.fps, abs=1e-4)
    assert (loaded["extras"]["fps"], loaded["extras"]["frames"]) == (anim.fps, anim.num_frames)
    assert {t["keys"] for t in clip["tracks"]} == {anim.num_frames}

    faces = _face_meshes(loaded)
    assert faces, [m["name"] for m in loaded["morphMeshes"]]
    for mesh in faces:  # morphTargetDictionary holds Apple's ARKit names in ARKit order
        assert mesh["names"] == list(ARKIT_NAMES), mesh["name"]

    for i, t in enumerate(_seek_times(anim)):
        seen = page.evaluate("t => window.glbClient.seek(t)", t)
        for name in ("jawOpen", "mouthClose"):
            want = _curve_at(anim, name, t)
            for mesh in faces:
                got = seen["influences"][mesh["name"]][name]
                assert got == pytest.approx(want, abs=TOLERANCE), (mesh["name"], name, t)
        root = loaded["nodes"][1]["name"]  # the rig's node under three's Scene group: it carries the head's turn
        want_turn = [float(np.interp(t, anim.times(), anim.head_rotation[:, k])) for k in range(3)]
        assert seen["rotations"][root]["yawPitchRollDeg"] == pytest.approx(want_turn, abs=0.01), t
        if i == 0:
            page.locator("canvas").screenshot(path=artifacts / "glb-client-open.png")
    assert not messages, messages


@pytest.mark.slow
def test_every_part_follows_its_curves_in_three_js(client, line):
    # each mesh with morph targets (face, eye sockets, lower teeth, tongue, mouth cavity) is driven by one track,
    # and each of its targets, named as an ARKit shape, follows that shape's curve
    page, loaded, _ = client
    _, anim = line
    tracks = [t["name"] for t in loaded["clip"]["tracks"]]
    for mesh in loaded["morphMeshes"]:
        assert tracks.count(f"{mesh['name']}.morphTargetInfluences") == 1, mesh["name"]
    for t in _seek_times(anim):
        seen = page.evaluate("t => window.glbClient.seek(t)", t)
        for mesh in loaded["morphMeshes"]:
            for name in mesh["names"]:
                got = seen["influences"][mesh["name"]][name]
                assert got == pytest.approx(_curve_at(anim, name, t), abs=TOLERANCE), (mesh["name"], name, t)
