"""The studio in a real browser: edit a photo, animate speech, judge a face, survive bad uploads.

Each test leaves a full-page screenshot in ``outputs/test-artifacts/browser/``; the edit test also records
how long a slider change takes to show (``slider-timing.json``).
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image
from playwright.sync_api import Page, expect

from facecraft.rigs import ARKIT_INDEX

UPLOAD_TIMEOUT_MS = 180_000  # the first analysis loads MediaPipe and fits the rig on 2 busy cores
EDIT_TIMEOUT_MS = 60_000


def _smile(weights: np.ndarray) -> float:
    return float(weights[ARKIT_INDEX["mouthSmileLeft"]] + weights[ARKIT_INDEX["mouthSmileRight"]]) / 2


@pytest.fixture(scope="session")
def analyzer():
    from facecraft.eval.faces import FaceAnalyzer

    with FaceAnalyzer() as a:
        yield a


@pytest.fixture(scope="session")
def neutral_photo(tmp_path_factory, artifacts) -> Path:
    """A photo of a face that does not smile: a real neutral FRLL portrait when ../shared is there, else the
    sample photo with its smile taken away by the editor (so `make test` needs no data set)."""
    from facecraft.rigs.assets import shared_data_dir

    frll = shared_data_dir() / "data" / "faces-frll" / "neutral" / "001.jpg"
    out = tmp_path_factory.mktemp("photos")
    if frll.is_file():
        return Path(shutil.copy(frll, out / "portrait.jpg"))
    from facecraft.rigs import resolve_asset
    from facecraft.synth.controls import EditControls
    from facecraft.synth.editor import FaceEditor

    with FaceEditor() as editor:
        image = np.asarray(Image.open(resolve_asset("astronaut")).convert("RGB"))
        result = editor.edit(image, EditControls.from_args(emotion="neutral:1", au={"AU12": 0.0, "AU6": 0.0}))
    path = out / "portrait.png"
    Image.fromarray(result.image).save(path)
    return path


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory) -> Path:
    """A real speech clip when ../shared is there, else 2 s of a voiced syllable-like signal."""
    from facecraft.rigs.assets import shared_data_dir

    clip = shared_data_dir() / "data" / "speech" / "arctic_us_aew_a0001.wav"
    if clip.is_file():
        return clip
    sr = 16000
    t = np.arange(2 * sr) / sr
    voice = sum(np.sin(2 * np.pi * 130 * k * t) / k for k in range(1, 8)) * np.clip(np.sin(2 * np.pi * 3 * t), 0, None)
    path = tmp_path_factory.mktemp("speech") / "speech.wav"
    sf.write(path, (0.3 * voice).astype(np.float32), sr)
    return path


def _open(page: Page, url: str, tab: str | None = None) -> None:
    page.goto(url)
    expect(page.locator("#edit-photo")).to_be_visible(timeout=60_000)
    if tab:
        page.get_by_role("tab", name=tab).click()


def _upload_photo(page: Page, path: Path) -> None:
    page.locator("#edit-photo input[type=file]").set_input_files(str(path))
    expect(page.locator("#edit-status")).to_contain_text("face(s) found", timeout=UPLOAD_TIMEOUT_MS)


def _download(page: Page, selector: str, path: Path) -> Path:
    with page.expect_download(timeout=EDIT_TIMEOUT_MS) as info:
        page.locator(selector).click()
    info.value.save_as(path)
    return path


def _fetch(page: Page, url: str, path: Path) -> Path:
    """Save a file the studio serves (a link's href) through the page's own session."""
    response = page.request.get(url)
    assert response.ok, f"GET {url}: {response.status}"
    path.write_bytes(response.body())
    return path


def test_edit_happiness_raises_the_smile(page: Page, studio_url, neutral_photo, analyzer, artifacts):
    _open(page, studio_url)
    _upload_photo(page, neutral_photo)
    before = np.asarray(Image.open(neutral_photo).convert("RGB"))

    # A slider change: the time from the change to the new result in the page (a new after-image arrives).
    status = page.locator("#edit-status")
    images = "() => Array.from(document.querySelectorAll('#edit-compare img')).map(i => i.src).join(' ')"
    timings = []
    for value in ("0.6", "0.3"):
        shown = page.evaluate(images)
        box = page.locator("#slider-AU12 input[type=number]")
        t0 = time.perf_counter()
        box.fill(value)
        box.press("Enter")
        page.wait_for_function(f"prev => ({images})() !== prev", arg=shown, timeout=EDIT_TIMEOUT_MS)
        page_s = time.perf_counter() - t0
        expect(status).to_contain_text(f"au: AU12={float(value):.2f}", timeout=EDIT_TIMEOUT_MS)
        server_ms = float(re.search(r"(\d+) ms", status.inner_text()).group(1))
        timings.append({"slider": "AU12", "value": value, "page_s": round(page_s, 3), "edit_ms": server_ms})
        if value == "0.6":  # the slider drives the channel it is labelled with
            slid = _download(page, "#edit-download", artifacts / "edit-au12-result.png")
            smile_slid = _smile(analyzer.largest_face(np.asarray(Image.open(slid).convert("RGB"))).blendshapes)
    (artifacts / "slider-timing.json").write_text(json.dumps(timings, indent=2))
    page.locator("#edit-reset").click()
    expect(status).to_contain_text("no change asked", timeout=EDIT_TIMEOUT_MS)

    # happiness at 1.0, then Apply
    page.locator("#edit-emotion input").click()
    page.get_by_role("option", name="happiness").click()
    intensity = page.locator("#edit-intensity input[type=number]")
    intensity.fill("1")
    intensity.press("Enter")
    page.locator("#edit-apply").click()
    expect(status).to_contain_text("emotion=happiness:1.000", timeout=EDIT_TIMEOUT_MS)
    expect(status).to_contain_text("face(s) edited", timeout=EDIT_TIMEOUT_MS)
    page.screenshot(path=artifacts / "edit-happiness.png", full_page=True)

    edited_path = _download(page, "#edit-download", artifacts / "edit-happiness-result.png")
    after = np.asarray(Image.open(edited_path).convert("RGB"))
    assert after.shape == before.shape
    diff = np.abs(after.astype(int) - before.astype(int))
    assert diff.max() > 40 and (diff.max(axis=2) > 10).mean() > 0.002, "the returned photo barely differs"
    smile_before = _smile(analyzer.largest_face(before).blendshapes)
    smile_after = _smile(analyzer.largest_face(after).blendshapes)
    smiles = {"photo": neutral_photo.name, "before": smile_before, "au12_0.6": smile_slid, "happiness_1": smile_after}
    (artifacts / "edit-smile-scores.json").write_text(json.dumps(smiles, indent=2))
    assert smile_after > smile_before + 0.05, smiles
    assert smile_slid > smile_before + 0.05, smiles


def test_animate_wav_gives_a_playable_video_and_a_valid_glb(page: Page, studio_url, speech_wav, artifacts):
    from facecraft.rigs.exchange import validate_gltf, validator_available
    from facecraft.rigs.video import probe_video

    page.set_viewport_size({"width": 1280, "height": 800})
    _open(page, studio_url, tab="Animate")
    page.locator("#animate-audio input[type=file]").set_input_files(str(speech_wav))
    page.locator("#animate-run").click()
    # greyed out while it runs: a click then emptied the status line and the run's progress (the page looked idle)
    expect(page.locator("#animate-run")).to_be_disabled()
    expect(page.locator("#animate-status")).to_contain_text("frames at", timeout=UPLOAD_TIMEOUT_MS)
    expect(page.locator("#animate-run")).to_be_enabled()
    # in a 1280 x 800 window the preview leaves the status line and the downloads in sight (a square video 800 px
    # tall put them below the window's edge)
    shown = page.evaluate(_BOXES, ["animate-video", "animate-status", "animate-files"])["boxes"]
    assert shown["animate-status"]["b"] <= 800 and shown["animate-files"]["t"] <= 750, shown

    video = page.locator("#animate-video video")
    expect(video).to_have_count(1, timeout=EDIT_TIMEOUT_MS)
    page.wait_for_function(
        "() => { const v = document.querySelector('#animate-video video'); return v && v.readyState >= 1 && v.duration > 0.5; }",  # noqa: E501
        timeout=EDIT_TIMEOUT_MS,
    )
    played = video.evaluate(
        """async v => { v.muted = true; await v.play();
                        await new Promise(r => setTimeout(r, 700)); v.pause();
                        return {t: v.currentTime, d: v.duration, w: v.videoWidth, err: v.error && v.error.code}; }"""
    )
    page.screenshot(path=artifacts / "animate.png", full_page=True)
    assert played["err"] is None and played["w"] > 0 and played["t"] > 0.1, played
    mp4 = _fetch(page, video.get_attribute("src"), artifacts / "animate-preview.mp4")
    info = probe_video(mp4)
    assert info.has_audio and info.frames > 10

    for suffix in (".csv", ".npz", ".json", ".glb"):
        expect(page.locator(f"#animate-files a[href$='{suffix}']").first).to_be_visible()
    # read-only: no remove button (x) on the files (Gradio drew one on each file of a list)
    expect(page.locator("#animate-files button[aria-label='Remove this file']:visible")).to_have_count(0)
    glb_link = page.locator("#animate-files a[href$='.glb']").first
    glb = _fetch(page, glb_link.get_attribute("href"), artifacts / "animate.glb")
    assert glb.read_bytes()[:4] == b"glTF"
    if not validator_available():
        pytest.skip("the Khronos glTF validator needs node and `npm ci`: GLB not validated")
    report = validate_gltf(glb)
    assert report["numErrors"] == 0, report["messages"]


def test_animate_takes_a_phone_video_and_says_when_a_video_has_no_sound(page: Page, studio_url, speech_wav, tmp_path):
    # gr.Audio's upload box turned away a phone's .mov ("Invalid file type: ... Only audio/* allowed") though
    # `facecraft animate` reads it; a video recorded without sound is refused with words that say so
    import subprocess

    from facecraft.rigs.video import ffmpeg_exe

    phone, mute = tmp_path / "IMG_0042.MOV", tmp_path / "mute.mp4"
    picture = ["-f", "lavfi", "-i", "testsrc=s=64x64:d=2", "-c:v", "libx264", "-pix_fmt", "yuv420p"]
    subprocess.run([ffmpeg_exe(), "-v", "error", *picture[:4], "-i", str(speech_wav), *picture[4:], "-c:a", "aac",
                    "-shortest", "-f", "mov", str(phone)], check=True)  # fmt: skip
    subprocess.run([ffmpeg_exe(), "-v", "error", *picture, str(mute)], check=True)
    _open(page, studio_url, tab="Animate")
    page.locator("#animate-audio input[type=file]").set_input_files(str(phone))
    expect(page.locator("#animate-audio")).to_contain_text("IMG_0042")
    page.locator("#animate-run").click()
    heard = re.compile(r"IMG_0042.MOV: \d\.\d s of speech")
    expect(page.locator("#animate-status")).to_contain_text(heard, timeout=UPLOAD_TIMEOUT_MS)
    expect(page.get_by_text("Invalid file type")).to_have_count(0)

    page.locator("#animate-audio").get_by_role("button", name="Clear").click()
    page.locator("#animate-audio input[type=file]").set_input_files(str(mute))
    expect(page.locator("#animate-audio")).to_contain_text("mute")
    page.locator("#animate-run").click()
    no_sound = "mute.mp4: the file holds no audio stream (a picture or a video without sound?)"
    # said in the status line: why nothing was made
    expect(page.locator("#animate-status")).to_contain_text(no_sound, timeout=EDIT_TIMEOUT_MS)


def test_evaluate_shows_every_available_judge_and_the_blendshapes(page: Page, studio_url, artifacts):
    from facecraft.rigs import resolve_asset

    _open(page, studio_url, tab="Evaluate")
    page.locator("#eval-photo input[type=file]").set_input_files(str(resolve_asset("astronaut")))
    page.locator("#eval-run").click()
    status = page.locator("#eval-status")
    expect(status).to_contain_text("mini-xception: happiness", timeout=UPLOAD_TIMEOUT_MS)
    expect(page.locator("#eval-blendshapes")).to_contain_text("mouthSmileLeft")
    expect(page.locator("#eval-fer-mini-xception canvas, #eval-fer-mini-xception svg").first).to_be_visible()
    page.screenshot(path=artifacts / "evaluate.png", full_page=True)


def test_a_non_image_upload_shows_an_error_and_the_app_keeps_answering(
    page: Page, studio_url, tmp_path, neutral_photo, artifacts
):
    _open(page, studio_url)
    notes = tmp_path / "notes.txt"
    notes.write_text("these are notes, not a photo\n")
    page.locator("#edit-photo input[type=file]").set_input_files(str(notes))
    error = page.get_by_text(re.compile(r"notes\.txt: unsupported photo file type"))
    expect(error.first).to_be_visible(timeout=EDIT_TIMEOUT_MS)
    page.screenshot(path=artifacts / "error-non-image.png")  # the viewport: the message is in the status line

    page.locator("#edit-photo").get_by_role("button", name="Clear").click()

    fake = tmp_path / "fake.png"
    fake.write_bytes(b"not a png")
    page.locator("#edit-photo input[type=file]").set_input_files(str(fake))
    expect(page.get_by_text(re.compile(r"fake\.png: not a readable image")).first).to_be_visible(
        timeout=EDIT_TIMEOUT_MS
    )

    # Still answering: the sample photo analyses and edits.
    page.locator("#edit-sample").click()
    expect(page.locator("#edit-status")).to_contain_text("astronaut.png", timeout=UPLOAD_TIMEOUT_MS)
    expect(page.locator("#edit-status")).to_contain_text("face(s) found", timeout=UPLOAD_TIMEOUT_MS)
    page.goto(studio_url)
    expect(page.locator("#edit-photo")).to_be_visible()


def test_a_value_typed_beyond_a_slider_is_taken_as_its_end_and_an_empty_box_keeps_its_value(
    page: Page, studio_url, artifacts
):
    _open(page, studio_url)
    page.locator("#edit-sample").click()
    status = page.locator("#edit-status")
    expect(status).to_contain_text("face(s) found", timeout=UPLOAD_TIMEOUT_MS)

    def box(name: str):
        return page.locator(f"#slider-{name} input[type=number]")

    # above the maximum: the edit uses 1, and the slider shows it
    box("AU12").fill("1.5")
    box("AU12").press("Enter")
    expect(status).to_contain_text("au: AU12=1.00;", timeout=EDIT_TIMEOUT_MS)
    expect(status).to_contain_text("AU12 1.5 taken as 1")
    expect(box("AU12")).to_have_value("1")
    expect(page.locator("#slider-AU12 input[type=range]")).to_have_value("1")
    # below the minimum: 0, which this face's AU10 is not
    assert float(box("AU10").input_value()) > 0.1
    box("AU10").fill("-0.3")
    box("AU10").press("Enter")
    expect(status).to_contain_text("au: AU10=0.00 AU12=1.00;", timeout=EDIT_TIMEOUT_MS)
    expect(box("AU10")).to_have_value("0")

    # a box emptied and left: back to its value, not 0 (the next edit must not set AU16 either)
    own = box("AU16").input_value()
    assert float(own) > 0.01
    box("AU16").fill("")
    box("AU16").blur()
    expect(box("AU16")).to_have_value(own)
    box("AU14").fill("0.5")
    box("AU14").press("Enter")
    expect(status).to_contain_text("AU14=0.50", timeout=EDIT_TIMEOUT_MS)
    assert "au: AU10=0.00 AU12=1.00 AU14=0.50;" in status.inner_text()
    expect(box("AU16")).to_have_value(own)
    page.screenshot(path=artifacts / "edit-out-of-range.png", full_page=True)


_EDIT_CONTROLS = ("photo", "sample", "face", "emotion", "intensity", "text", "apply", "reset", "compare", "download")
_LAYOUT = """ids => {
  const box = e => { const b = e.getBoundingClientRect(); return {l: b.left, r: b.right, t: b.top, b: b.bottom}; };
  const img = document.querySelector('#edit-compare img');
  const b = img.getBoundingClientRect();
  const scale = Math.min(b.width / img.naturalWidth, b.height / img.naturalHeight);
  const outside = [...document.querySelectorAll('body *')].filter(e => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && (r.left < -1 || r.right > document.documentElement.clientWidth + 1);
  }).map(e => e.id || e.className || e.tagName);
  return {viewport: document.documentElement.clientWidth, scroll: document.documentElement.scrollWidth,
          outside: outside.slice(0, 10), image_shown: img.naturalWidth * scale,
          boxes: Object.fromEntries(ids.map(id => [id, box(document.getElementById(id))]))};
}"""


@pytest.mark.parametrize("width", [800, 1280])
def test_the_edit_tab_fits_the_window_with_a_large_picture(page: Page, studio_url, artifacts, width):
    page.set_viewport_size({"width": width, "height": 900})
    _open(page, studio_url)
    page.locator("#edit-sample").click()
    expect(page.locator("#edit-status")).to_contain_text("face(s) found", timeout=UPLOAD_TIMEOUT_MS)
    expect(page.locator("#edit-compare img").first).to_be_visible()
    page.screenshot(path=artifacts / f"edit-layout-{width}.png", full_page=True)
    ids = [f"edit-{name}" for name in _EDIT_CONTROLS] + ["slider-AU12", "slider-AU25"]
    page.locator("#edit-compare img").first.evaluate("i => i.decode()")  # its natural size is known
    got = page.evaluate(_LAYOUT, ids)
    assert got["scroll"] <= got["viewport"] and got["outside"] == [], got  # nothing beyond the right edge
    assert got["image_shown"] >= 450, got  # the before/after picture (512 px photo) is shown large
    boxes = got["boxes"]
    for a, ra in boxes.items():
        assert ra["r"] - ra["l"] >= 150, (a, ra)  # wide enough to read
        for b, rb in boxes.items():
            overlap = min(ra["r"], rb["r"]) - max(ra["l"], rb["l"]), min(ra["b"], rb["b"]) - max(ra["t"], rb["t"])
            assert a == b or min(overlap) <= 0, (a, b, ra, rb)
    if width >= 1280:  # wide: the picture beside the controls, as before
        assert boxes["edit-compare"]["l"] >= boxes["edit-apply"]["r"], boxes


TALK_LINE = "Bob bought a map."


@pytest.fixture(scope="session")
def short_speech(tmp_path_factory) -> tuple[Path, str | None]:
    """About 1.5 s of speech and its words: espeak-ng saying TALK_LINE, else 1.5 s of a voiced syllable-like signal
    (no words)."""
    import subprocess

    folder = tmp_path_factory.mktemp("talk")
    exe = shutil.which("espeak-ng")
    if exe is not None:
        path = folder / "line.wav"
        subprocess.run([exe, "-v", "en-us", "-s", "150", "-w", str(path), TALK_LINE], check=True, capture_output=True)
        return path, TALK_LINE
    sr = 16000
    t = np.arange(int(1.5 * sr)) / sr
    voice = sum(np.sin(2 * np.pi * 130 * k * t) / k for k in range(1, 8)) * np.clip(np.sin(2 * np.pi * 3 * t), 0, None)
    path = folder / "line.wav"
    sf.write(path, (0.3 * voice).astype(np.float32), sr)
    return path, None


_BOXES = """ids => ({viewport: document.documentElement.clientWidth, scroll: document.documentElement.scrollWidth,
  boxes: Object.fromEntries(ids.map(id => { const b = document.getElementById(id).getBoundingClientRect();
                                            return [id, {l: b.left, r: b.right, t: b.top + scrollY,
                                                         b: b.bottom + scrollY}]; }))})"""  # page coordinates


def test_talk_makes_a_talking_portrait_of_the_sample_with_sound(page: Page, studio_url, short_speech, artifacts):
    from facecraft.rigs.video import probe_video, read_frames

    speech, words = short_speech
    page.set_viewport_size({"width": 1280, "height": 1000})
    _open(page, studio_url, tab="Talk")
    page.locator("#talk-sample").click()
    status = page.locator("#talk-status")
    expect(status).to_contain_text("1 face(s) found", timeout=UPLOAD_TIMEOUT_MS)
    expect(page.locator("#talk-framing img")).to_be_visible()
    expect(page.locator("#talk-download")).to_be_disabled()  # no video yet: greyed out, as the Edit tab's
    page.locator("#talk-audio input[type=file]").set_input_files(str(speech))
    if words:
        page.locator("#talk-transcript textarea").fill(words)
    page.locator("#talk-size").get_by_label("256").check()
    page.locator("#talk-run").click()
    expect(status).to_contain_text("frames at 25 fps, 256x256 px", timeout=UPLOAD_TIMEOUT_MS)
    if words:
        expect(status).to_contain_text("transcript aligned")

    loaded = "() => { const v = document.querySelector('#talk-video video'); return v && v.readyState >= 1; }"
    page.wait_for_function(loaded, timeout=EDIT_TIMEOUT_MS)
    played = page.locator("#talk-video video").evaluate(
        """async v => { v.muted = true; await v.play();
                        await new Promise(r => setTimeout(r, 500)); v.pause();
                        return {t: v.currentTime, d: v.duration, w: v.videoWidth, h: v.videoHeight,
                                err: v.error && v.error.code}; }"""
    )
    page.screenshot(path=artifacts / "talk.png", full_page=True)
    assert played["err"] is None and (played["w"], played["h"]) == (256, 256) and played["t"] > 0.1, played
    assert abs(played["d"] - sf.info(speech).duration) < 0.2, played

    expect(page.locator("#talk-download")).to_be_enabled()
    mp4 = _download(page, "#talk-download", artifacts / "talk.mp4")
    info = probe_video(mp4)
    duration = sf.info(speech).duration
    assert info.has_audio and (info.width, info.height) == (256, 256) and abs(info.frames - duration * 25) <= 1.5
    frames = np.stack(list(read_frames(mp4))).astype(np.int16)
    mouth = frames[:, 98:128, 104:152]  # the sample's mouth in a 256 px portrait: it moves with the speech
    assert np.abs(mouth - mouth[0]).mean(axis=(1, 2, 3)).max() > 10

    # 1280 px: the video beside the controls, with the status line and the download in sight in an 800 px tall
    # window (a square video 800 px tall put them below its edge); 800 px: under them, at full width, nothing beyond
    # the right edge
    ids = ["talk-photo", "talk-audio", "talk-run", "talk-video", "talk-status", "talk-download"]
    wide = page.evaluate(_BOXES, ids)["boxes"]
    assert wide["talk-video"]["l"] >= wide["talk-run"]["r"], wide
    assert wide["talk-download"]["b"] <= 800, wide
    page.set_viewport_size({"width": 800, "height": 1000})
    page.wait_for_function("() => document.documentElement.clientWidth === 800")
    narrow = page.evaluate(_BOXES, ids)
    page.screenshot(path=artifacts / "talk-800.png", full_page=True)
    video, run = narrow["boxes"]["talk-video"], narrow["boxes"]["talk-run"]
    assert narrow["scroll"] <= narrow["viewport"], narrow
    assert video["t"] >= run["b"] and video["r"] - video["l"] > 600, narrow
