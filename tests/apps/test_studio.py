"""The studio's layout and wiring (no browser): tabs, named API endpoints, errors shown, not raised."""

from __future__ import annotations

import copy
import shutil
from contextlib import contextmanager
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from facecraft.apps import studio
from facecraft.apps import studio_handlers as h
from facecraft.apps.cli import build_parser
from facecraft.rigs import ARKIT_NAMES, AU_NAMES, NoFaceError


@pytest.fixture(scope="module")
def demo():
    return studio.build_studio()


@contextmanager
def _no_toast():
    """Fails if what runs inside shows a toast (gr.Warning, gr.Info). A message the tab's status line says is not a
    toast too: a warning toast stayed 10 s, over the next run's result (a bad sound file's, over the video made of
    the next), and Gradio gives a handler no way to take it back."""
    shown = []
    with pytest.MonkeyPatch.context() as mp:
        for kind in ("Warning", "Info"):
            mp.setattr(gr, kind, lambda message, *a, kind=kind, **k: shown.append((kind, message)))
        yield
    assert shown == []


def test_every_event_has_an_api_name(demo):
    names = {fn.api_name for fn in demo.fns.values() if fn.api_name}
    expected = {
        "analyze",
        "analyze_sample",
        "choose_face",
        "edit",
        "refine",
        "reset",
        "animate",
        "talk_analyze",
        "talk_sample",
        "talk_face",
        "talk",
        "judge",
        "identity",
        "augment",
    }
    assert expected <= names
    unnamed = [fn.name for fn in demo.fns.values() if not fn.api_name and fn.name != "_edit"]
    assert unnamed == []  # only the edit chained after "reset" reuses the edit endpoint's function


def test_tabs_and_one_slider_per_au_and_arkit_channel(demo):
    tabs = [b.label for b in demo.blocks.values() if isinstance(b, gr.Tab)]
    assert tabs == ["Edit", "Animate", "Talk", "Evaluate", "Augment"]
    ids = {b.elem_id for b in demo.blocks.values() if isinstance(b, gr.Slider)}
    assert {f"slider-{n}" for n in (*AU_NAMES, *ARKIT_NAMES)} <= ids
    edit = next(fn for fn in demo.fns.values() if fn.api_name == "edit")
    # the sliders reach the handler in AU_NAMES then ARKIT_NAMES order, whatever the layout's grouping
    assert edit.inputs[6].elem_id == "edit-keep-glasses"
    assert [b.elem_id for b in edit.inputs[7:]] == [f"slider-{n}" for n in (*AU_NAMES, *ARKIT_NAMES)]
    analyze = next(fn for fn in demo.fns.values() if fn.api_name == "analyze")
    assert [b.elem_id for b in analyze.outputs[7:]] == [f"slider-{n}" for n in (*AU_NAMES, *ARKIT_NAMES)]


def test_the_edit_takes_typed_slider_values_unchecked_and_shows_those_it_clamped(demo):
    from facecraft.apps import studio_handlers as h

    edit = next(fn for fn in demo.fns.values() if fn.api_name == "edit")
    assert edit.preprocess is False  # Gradio's own check would refuse a value out of range: _edit clamps it
    sliders = [f"slider-{n}" for n in (*AU_NAMES, *ARKIT_NAMES)]
    assert [b.elem_id for b in edit.outputs[:4]] == ["edit-compare", "edit-download", "edit-full-file", "edit-status"]
    assert [b.elem_id for b in edit.outputs[4:]] == ["edit-intensity", *sliders]
    chained = [fn for fn in demo.fns.values() if fn.name == "_edit" and fn is not edit]
    assert len(chained) == 2 and all(not fn.preprocess and fn.outputs == edit.outputs for fn in chained)

    session = h.analyze_photo(h.sample_photo_path())
    au, arkit = session.slider_values(0)
    au[AU_NAMES.index("AU12")] = 1.5
    out = studio._edit(session, 0, studio.NO_EMOTION, 0.8, "", False, *au, *arkit)
    assert "au: AU12=1.00;" in out[3] and out[3].endswith("AU12 1.5 taken as 1 (sliders go from 0 to 1)")
    shown = dict(zip(["intensity", *AU_NAMES, *ARKIT_NAMES], out[4:], strict=True))
    assert shown.pop("AU12") == gr.update(value=1.0)
    assert all(v == gr.skip() for v in shown.values())
    au[AU_NAMES.index("AU12")] = None  # a box being typed into: no edit, the picture and the boxes stay
    out = studio._edit(session, 0, studio.NO_EMOTION, 0.8, "", False, *au, *arkit)
    assert out[3] == "**type a number from 0 to 1 for AU12**" and all(v == gr.skip() for v in (*out[:3], *out[4:]))


def test_refine_panel_only_with_a_configured_base_and_adapter(tmp_path, monkeypatch):
    from facecraft.apps.studio_handlers import RefineConfig, shared_models

    def refine_panel(demo):
        return next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "edit-refine")

    before = shared_models().refine
    try:
        assert refine_panel(studio.build_studio(refine=RefineConfig())).visible is False
        configured = studio.build_studio(refine=RefineConfig(str(tmp_path), str(tmp_path)))
        assert refine_panel(configured).visible is True
        assert any(fn.api_name == "refine" for fn in configured.fns.values())
    finally:
        shared_models().refine = before


def test_ui_wrapper_turns_errors_into_messages():
    def no_face():
        raise NoFaceError("x.png: no face found")

    def bug():
        raise KeyError("oops")

    with pytest.raises(gr.Error, match="x.png: no face found"):
        studio._ui(no_face)()
    with pytest.raises(gr.Error, match="unexpected error \\(KeyError\\)"):
        studio._ui(bug)()


def test_cli_has_the_app_command():
    args = build_parser().parse_args(["app", "--port", "7999", "--refine-base", "b", "--refine-adapter", "a"])
    assert args.command == "app" and args.port == 7999 and args.host == "127.0.0.1"
    assert (args.refine_base, args.refine_adapter, args.refine_device) == ("b", "a", "cpu")


def _event(demo, api_name: str):
    return next(fn for fn in demo.fns.values() if fn.api_name == api_name)


def test_the_talk_tab_takes_the_edit_tabs_photo_picker_and_the_animate_tabs_speech_controls(demo):
    def described(blocks):
        return [(type(b).__name__, b.label) for b in blocks]

    talk, animate = _event(demo, "talk"), _event(demo, "animate")
    assert [b.elem_id for b in talk.inputs[2:]] == [
        "talk-face", "talk-size", "talk-fps", "talk-audio", "talk-record", "talk-transcript", "talk-emotion",
        "talk-intensity", "talk-track", "talk-track-file", "talk-keep-glasses",
    ]  # fmt: skip
    assert described(talk.inputs[5:7] + talk.inputs[8:-1]) == described(animate.inputs[:2] + animate.inputs[4:])
    assert [b.elem_id for b in talk.outputs] == ["talk-video", "talk-download", "talk-status"]
    assert talk.inputs[4].choices == [(str(f), f) for f in h.TALK_FPS]
    for picker in ("analyze", "talk_analyze"):
        assert described(_event(demo, picker).inputs[1:]) == [("File", "Photo (JPEG, PNG, WebP, ...)")]
    buttons = [
        b for b in demo.blocks.values() if isinstance(b, gr.Button) and b.elem_id in ("edit-sample", "talk-sample")
    ]
    assert len(buttons) == 2 and buttons[0].value == buttons[1].value == "Use the sample photo (astronaut)"


def test_the_talk_tab_shows_a_photo_without_a_face_and_a_run_without_a_photo_as_messages(demo, tmp_path):
    from PIL import Image

    blank = tmp_path / "wall.png"
    Image.fromarray(np.full((256, 256, 3), 200, np.uint8)).save(blank)
    with _no_toast():
        session, face, framing, video, download, status = studio._talk_analyze(str(blank))
    assert framing is None and video is None and _greyed(download)
    assert status.startswith("**no face found in wall.png") and face.choices == []
    # the run after it said "no photo analysed yet", then "no photo with a face to use" in a toast alone: its first
    # step empties the status line, and the "no face found in wall.png" there went with it
    talk = _event(demo, "talk")
    assert [b.elem_id for b in talk.outputs] == ["talk-video", "talk-download", "talk-status"]
    with _no_toast():
        video, download, status = studio._talk(session, None, 256, 25, None, None, "", studio.NO_EMOTION, 0.8, "", None)
    assert video is None and _greyed(download) and status.startswith("**Nothing made: no face found in wall.png")
    with _no_toast():  # no photo given yet
        video, download, status = studio._talk(None, None, 256, 25, None, None, "", studio.NO_EMOTION, 0.8, "", None)
    assert status.startswith("**Nothing made: no photo with a face to use: upload a photo where a face shows")
    # so does the Animate tab's
    with _no_toast():
        video, files, status = studio._animate(None, None, "", "learned", studio.NO_EMOTION, 0.8, "", None,
                                               progress=lambda *a, **k: 0)  # fmt: skip
    assert video is None and files is None and status.startswith("**Nothing made: no speech given")

    session, face, framing, video, download, status = studio._talk_sample()
    assert len(session.faces) == 1 and face.choices == [(face.choices[0][0], 0)] and not face.interactive
    assert framing.shape[0] == framing.shape[1] > 200
    assert status == "astronaut.png: 512x512; 1 face(s) found. Add speech and press Make the talking portrait."


def _greyed(download: gr.DownloadButton) -> bool:
    """Whether a download button update empties the button and greys it out (a click on it does nothing)."""
    return isinstance(download, gr.DownloadButton) and download.value is None and download.interactive is False


def test_the_talk_tabs_download_is_greyed_out_until_a_video_is_made(demo, tmp_path, monkeypatch):
    # the Talk tab's "Download the video (MP4)" looked ready with no video (the Edit tab's is greyed out): a click
    # on it did nothing, before any run, after a new photo or face, a refused speech file, and a failed run
    from types import SimpleNamespace

    from facecraft.rigs import ParameterError

    button = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "talk-download")
    assert button.interactive is False and button.value is None
    session, face, framing, video, download, status = studio._talk_sample()
    assert video is None and _greyed(download)
    video, download, status, run = _event(demo, "talk_clear").fn()  # a run's first step
    assert video is None and _greyed(download) and status is None and run.interactive is False
    made = tmp_path / "astronaut-talking.mp4"
    made.write_bytes(b"\0" * 16)
    monkeypatch.setattr(h, "talking_portrait", lambda *a, **k: SimpleNamespace(video=str(made), message="made"))
    talk = (256, 25, None, None, "", studio.NO_EMOTION, 0.8, "", None)
    video, download, status = studio._talk(session, 0, *talk)
    assert video == str(made) and _offered(download) == made.name and status == "made"
    assert _greyed(studio._talk_face(session, 0)[2])  # another face: the video goes, and its download

    def fails(*a, **k):
        raise ParameterError("no speech given")

    monkeypatch.setattr(h, "talking_portrait", fails)
    with _no_toast():
        video, download, status = studio._talk(session, 0, *talk)
    assert video is None and _greyed(download) and status.startswith("**Nothing made: no speech given")
    speech = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "talk-audio")
    checked = next(fn for fn in demo.fns.values() if (speech._id, "upload") in fn.targets)
    (tmp_path / "photo.jpg").write_bytes(b"\0" * 16)
    with _no_toast():
        record, upload, video, download, status = checked.fn(str(tmp_path / "photo.jpg"))
    assert video is None and _greyed(download) and status.startswith("**Speech not taken: photo.jpg")


def test_a_removed_photo_is_dropped_quietly_in_the_edit_and_talk_tabs(demo):
    # the upload's x cleared the file box only: the framing, the status and the session stayed, and the Talk tab
    # made the removed photo talk (the Edit tab's sliders edited it). Then the removal, a deliberate one, showed the
    # yellow toast of a photo that could not be used, "no photo: upload one or pick the sample"
    cleared = {"edit": studio._edit_cleared, "talk": studio._talk_cleared}
    for api_name, tab in (("analyze", "edit"), ("talk_analyze", "talk")):
        upload = _event(demo, api_name)
        assert [b.elem_id for b in upload.inputs[1:]] == [f"{tab}-photo"]
        assert [name for _, name in upload.targets] == ["upload"]
        photo = upload.inputs[1]._id
        # the clear is a listener of its own (one listener for both dropped an upload made while the clear's run
        # was going: gradio runs a listener once at a time)
        clears = [fn for fn in demo.fns.values() if (photo, "clear") in fn.targets and fn.fn is not None]
        assert len(clears) == 1 and clears[0].name == cleared[tab].__name__ and clears[0].targets == [(photo, "clear")]
        assert [b._id for b in clears[0].outputs] == [b._id for b in upload.outputs]
        status = next(b for b in upload.outputs if b.elem_id == f"{tab}-status")
        with _no_toast():
            out = clears[0].fn(studio._Shown())
        assert out[0] is None and out[-1 if tab == "talk" else 6] == status.value  # as the tab starts
    with _no_toast():
        session, face, framing, video, download, status = studio._talk_cleared()
    assert session is None and framing is None and video is None and _greyed(download) and face.choices == []
    with _no_toast():
        out = studio._edit_cleared()
    assert out[1].choices == [] and out[2] is None and _greyed(out[3]) and not out[4].visible and not out[5].visible
    # a click on Apply (or a slider) then, or on Make the talking portrait, says what to do
    sliders = [0.0] * (len(AU_NAMES) + len(ARKIT_NAMES))
    assert studio._edit(None, None, studio.NO_EMOTION, 0.8, "", False, *sliders)[3] == (
        "Upload a photo or pick the sample first."
    )
    with _no_toast():
        video, download, status = studio._talk(None, None, 256, 25, None, None, "", studio.NO_EMOTION, 0.8, "", None)
    assert status.startswith("**Nothing made: no photo with a face to use: upload a photo where a face shows")


def _block(demo, elem_id: str):
    return next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == elem_id)


def _listener(demo, elem_id: str, trigger: str):
    """The listener of ``trigger`` (``"upload"``, ``"click"``, ...) on the block ``elem_id`` (not its ``cancels=``)."""
    block = _block(demo, elem_id)
    return next(fn for fn in demo.fns.values() if (block._id, trigger) in fn.targets and fn.fn is not None)


def _skipped(value) -> bool:
    return isinstance(value, dict) and value == gr.skip()


class _Page:
    """One browser tab of the studio without a browser: listeners run as Gradio runs them, each with the tab's own
    ``gr.State`` values (a copy of each State's value, as Gradio gives a new tab) and the State outputs kept."""

    def __init__(self, demo):
        self.states = {b._id: copy.deepcopy(b.value) for b in demo.blocks.values() if isinstance(b, gr.State)}

    def run(self, fn, **given) -> tuple:
        """``fn`` run (inputs: the tab's States, else ``given[elem_id]``, else the block's value): its outputs."""
        args = [self.states[b._id] if isinstance(b, gr.State) else given.get(b.elem_id, b.value) for b in fn.inputs]
        out = fn.fn(*args)
        out = out if isinstance(out, tuple) else (out,)
        for block, value in zip(fn.outputs, out, strict=True):
            if isinstance(block, gr.State) and not _skipped(value):
                self.states[block._id] = value
        return out

    def state(self, fn):
        """The tab's session (the first State ``fn`` writes)."""
        return self.states[next(b for b in fn.outputs if isinstance(b, gr.State))._id]


def _pair_photo(path: Path) -> str:
    """The sample astronaut beside her mirror image: a photo of two faces."""
    from facecraft.eval.images import load_image

    astronaut = load_image(h.sample_photo_path())
    Image.fromarray(np.concatenate([astronaut, astronaut[:, ::-1]], axis=1)).save(path)
    return str(path)


@pytest.mark.parametrize("tab", ["edit", "talk"])
def test_an_analysis_still_going_when_its_photo_is_removed_or_replaced_is_dropped(demo, tab, tmp_path, monkeypatch):
    # a photo removed (the upload's x) while it was analysed came back when its analysis ended: its faces, picture
    # and status beside the empty upload box; a second photo uploaded meanwhile was never analysed (Gradio dropped
    # the trigger of a listener still going) and the first one's faces were shown under the second one's name
    upload, clear = _listener(demo, f"{tab}-photo", "upload"), _listener(demo, f"{tab}-photo", "clear")
    sample = _listener(demo, f"{tab}-sample", "click")
    first, second = str(tmp_path / "first.png"), _pair_photo(tmp_path / "pair.png")
    shutil.copy(h.sample_photo_path(), first)
    analyze, meanwhile = h.analyze_photo, []

    def slow(path, **kwargs):  # the first photo's analysis: the user acts before it ends
        session = analyze(path, **kwargs)
        if path == first:
            meanwhile.pop(0)()
        return session

    monkeypatch.setattr(h, "analyze_photo", slow)
    page = _Page(demo)
    meanwhile.append(lambda: page.run(clear))  # x pressed, nothing uploaded next
    assert all(_skipped(v) for v in page.run(upload, **{f"{tab}-photo": first}))
    assert page.state(upload) is None
    meanwhile.append(lambda: page.run(clear))  # x pressed, then the second photo uploaded: it runs after the first
    assert upload.trigger_mode == "always_last"  # Gradio runs it once the first ends (it dropped it: "once")
    assert all(_skipped(v) for v in page.run(upload, **{f"{tab}-photo": first}))
    out = page.run(upload, **{f"{tab}-photo": second})
    assert len(page.state(upload).faces) == 2 and len(out[1].choices) >= 2
    # the sample picked while a photo is analysed: the sample is shown, whichever ends last
    meanwhile.append(lambda: page.run(sample))
    assert all(_skipped(v) for v in page.run(upload, **{f"{tab}-photo": first}))
    assert page.state(upload).name == Path(h.sample_photo_path()).name


@pytest.mark.parametrize("tab", ["edit", "talk"])
def test_an_analysis_waiting_for_its_turn_is_taken_off_the_queue_when_its_photo_is_removed(demo, tab):
    # an upload's analysis queued behind another browser tab's (one analysis at a time) started after the photo was
    # removed, as the newest photo: the removed photo came back
    photo = _block(demo, f"{tab}-photo")
    cancel = [fn for fn in demo.fns.values() if (photo._id, "clear") in fn.targets and fn.fn is None]
    assert len(cancel) == 1
    assert {demo.fns[i].api_name for i in cancel[0].cancels} == {
        _listener(demo, f"{tab}-photo", "upload").api_name,
        _listener(demo, f"{tab}-sample", "click").api_name,
    }


def test_an_edit_or_a_talking_portrait_still_being_made_when_its_photo_is_removed_is_dropped(demo, monkeypatch):
    # the edit (or the talking portrait, minutes long) of a removed photo came after the removal: the picture and its
    # download (the video) of a photo no longer there, beside "Upload a photo or pick the sample."
    from types import SimpleNamespace

    page = _Page(demo)
    edit, talk = _listener(demo, "edit-apply", "click"), _event(demo, "talk")
    page.run(_listener(demo, "edit-sample", "click"))
    page.run(_listener(demo, "talk-sample", "click"))
    clear = {tab: _listener(demo, f"{tab}-photo", "clear") for tab in ("edit", "talk")}
    apply_edit = h.apply_edit

    def edited(*args, **kwargs):
        page.run(clear["edit"])
        return apply_edit(*args, **kwargs)

    monkeypatch.setattr(h, "apply_edit", edited)
    out = page.run(edit, **{"edit-emotion": "happiness"})
    assert len(out) == len(edit.outputs) and all(_skipped(v) for v in out)

    def made(*args, **kwargs):
        page.run(clear["talk"])
        return SimpleNamespace(video="talking.mp4", message="made")

    monkeypatch.setattr(h, "talking_portrait", made)
    assert all(_skipped(v) for v in page.run(talk, **{"talk-size": 256}))


def test_gradios_copies_of_the_results_are_swept_as_the_studios_own_folders_are(demo):
    # every file a handler returns is copied into Gradio's cache (/tmp/gradio), which grew without limit (387
    # entries, 89 MB on a colleague's machine) while the studio pruned its own result folders
    from facecraft.apps import studio_handlers as h

    sweep, age = demo.delete_cache
    assert sweep == studio.GRADIO_CACHE_SWEEP_S and 0 < sweep <= age == int(h.JOB_HOLD_S)


def test_the_speech_box_takes_what_the_command_line_reads_phone_and_browser_recordings_and_videos(demo, tmp_path):
    # gr.Audio's upload box took audio/* only: a browser's .webm, a phone's .mov or .mp4 (and a video whose sound
    # should drive the face) met "Invalid file type" though `facecraft animate` and `facecraft talk` read them
    from gradio.data_classes import FileData

    from facecraft.audio2face.batch import AUDIO_SUFFIXES

    for api_name, tab in (("animate", "animate"), ("talk", "talk")):
        event = _event(demo, api_name)
        upload = next(b for b in event.inputs if b.elem_id == f"{tab}-audio")
        record = next(b for b in event.inputs if b.elem_id == f"{tab}-record")
        assert isinstance(upload, gr.File) and isinstance(record, gr.Audio) and record.sources == ["microphone"]
        # Gradio's own filter of endings (file_types) turned a .jpg away in the browser without a word, the result
        # before left in place: every file reaches the studio's own check
        assert upload.file_types is None
        for name in ("voice.webm", "IMG_0042.MOV", "clip.mp4", "memo.m4a", "line.wav", "utk_tuning.jpg"):
            path = tmp_path / name
            path.write_bytes(b"\0" * 16)
            assert upload.preprocess(FileData(path=str(path), orig_name=name)) == str(path)
        # the speech given last is used: an upload drops the recording, a recording drops the upload; an upload
        # the tab does not read empties the box and the results before, the status line saying why
        cleared = {(t[1], tuple(b.elem_id for b in fn.outputs)) for fn in demo.fns.values() for t in fn.targets
                   if t[0] in (upload._id, record._id) and t[1] in ("upload", "stop_recording")}  # fmt: skip
        results = [b.elem_id for b in event.outputs]
        assert cleared == {
            ("upload", (f"{tab}-record", f"{tab}-audio", *results)),
            ("stop_recording", (f"{tab}-audio",)),
        }
    for name in ("voice.webm", "IMG_0042.MOV", "line.wav"):
        assert studio._speech_uploaded(str(tmp_path / name)) == (None, *(gr.skip(),) * 4)
    with _no_toast():
        record, upload, video, files, status = studio._speech_uploaded(str(tmp_path / "utk_tuning.jpg"))
    assert record is None and upload is None and video is None and files is None
    assert status.startswith("**Speech not taken: utk_tuning.jpg: unsupported speech file type '.jpg'; expected one")
    assert all(suffix in status for suffix in AUDIO_SUFFIXES)
    assert studio._speech(None, "rec.wav") == "rec.wav" and studio._speech("a.mov", None) == "a.mov"
    assert studio._speech(None, None) is None


def test_a_video_without_sound_is_turned_away_with_a_clear_message(tmp_path):
    import subprocess

    from facecraft.rigs.video import ffmpeg_exe

    mute = tmp_path / "mute.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc=s=64x64:d=1", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", str(mute)], check=True)  # fmt: skip
    with _no_toast():
        out = studio._animate(str(mute), None, "", "procedural", studio.NO_EMOTION, 0.8, "", None,
                              progress=lambda *a, **k: 0)  # fmt: skip
    assert out[:2] == (None, None) and "mute.mp4: the file holds no audio stream" in out[2]


def test_a_photo_or_speech_named_near_the_file_systems_limit_is_edited_animated_and_made_to_talk(tmp_path):
    # every result is named after its upload: a name near the file system's 255 bytes (82 Japanese characters are
    # 246) failed the edit, the talking portrait and the animation with "Internal error (OSError): File name too long"
    import shutil

    import soundfile as sf

    long = "写真" * 41
    photo = tmp_path / f"{long}.png"
    shutil.copy(h.sample_photo_path(), photo)
    sr = 16000
    t = np.arange(sr) / sr
    voice = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 8)) * np.clip(np.sin(2 * np.pi * 3 * t), 0, None)
    speech = tmp_path / f"{long}.wav"
    sf.write(speech, (0.3 * voice).astype(np.float32), sr)
    assert len(photo.name.encode()) == len(speech.name.encode()) == 250

    session, *_ = studio._analyze(str(photo))
    au, arkit = session.slider_values(0)
    (before, after), download, message, *_ = studio._edit(session, 0, "sadness", 0.8, "", False, *au, *arkit)
    edited = Path(after).name
    assert edited.endswith("-edited.png") and long.startswith(edited[: -len("-edited.png")])
    assert len(edited.encode()) <= h.MAX_STEM_BYTES + len("-edited.png")
    video = h.talking_portrait(session, speech, size=256, out_dir=tmp_path / "talk").video
    assert Path(video).name.endswith("-talking.mp4") and Path(video).is_file()
    out = h.animate_speech(speech, mode="procedural", out_dir=tmp_path / "animate")
    assert all(Path(f).is_file() for f in [out.video, *out.files.values()])
    assert h.upload_stem("", "photo") == "photo" and h.upload_stem("a.b.png", "photo") == "a.b"


def _listening() -> tuple[object, int]:
    import socket

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    return busy, busy.getsockname()[1]


def test_facecraft_app_says_the_address_it_answers_on_and_a_taken_port_in_words(monkeypatch, capsys, tmp_path):
    # `facecraft app` printed http://127.0.0.1:7860/ before Gradio had chosen its port: with 7860 taken the studio
    # answered on 7861 and the address printed was another program's; a taken --port went out as a traceback
    import gradio.http_server

    from facecraft.apps.cli import main

    served = []

    def stop(self):  # instead of serving until Ctrl+C
        served.append(self.server_port)
        self.close()

    monkeypatch.setattr(gr.Blocks, "block_thread", stop)
    monkeypatch.setattr(h, "prune_results", lambda *a, **k: 0)
    busy, port = _listening()
    with busy:
        monkeypatch.setattr(gradio.http_server, "INITIAL_PORT_VALUE", port)  # Gradio's first try, taken
        assert main(["app"]) == 0
        assert served and served[0] != port
        assert f"facecraft studio: http://127.0.0.1:{served[0]}/ (Ctrl+C stops it)" in capsys.readouterr().out
        assert main(["app", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"facecraft: error: cannot serve the studio on 127.0.0.1, port {port}: in use by another program" in err
    assert "Traceback" not in err and len(served) == 1
    # refine folders and device that cannot work are said before serving (they were found only when ticked)
    assert main(["app", "--refine-base", str(tmp_path / "nope"), "--refine-adapter", str(tmp_path)]) == 1
    assert main(["app", "--refine-device", "gpu"]) == 1
    err = capsys.readouterr().err
    assert "diffusion base folder not found" in err and "--refine-device: expected cpu" in err and len(served) == 1


def test_a_phones_video_is_taken_at_a_videos_size_not_a_sound_files(tmp_path, monkeypatch):
    # half a minute of a phone's 1080p video is about 64 MB: Gradio's 60 MB upload limit and the speech's 50 MB
    # turned away the video whose sound should drive the face, though only its sound is read
    import subprocess

    from gradio.utils import _parse_file_size

    from facecraft.rigs.video import ffmpeg_exe

    assert _parse_file_size(studio.MAX_UPLOAD) > h.MAX_VIDEO_BYTES >= 750 * 2**20  # 120 s of 4K at 50 Mbit/s
    clip, sound = tmp_path / "IMG_0042.MOV", tmp_path / "memo.m4a"
    tone = ["-f", "lavfi", "-i", "sine=f=220:d=1", "-c:a", "aac"]
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc=s=320x240:d=1", *tone, "-c:v",
                    "libx264", "-pix_fmt", "yuv420p", "-f", "mov", str(clip)], check=True)  # fmt: skip
    subprocess.run([ffmpeg_exe(), "-v", "error", *tone, "-b:a", "512k", str(sound)], check=True)
    monkeypatch.setattr(h, "MAX_AUDIO_BYTES", min(clip.stat().st_size, sound.stat().st_size) - 1)  # both above it
    assert h.check_speech(clip, command="talk") == (clip, pytest.approx(1.0, abs=0.05))
    with pytest.raises(h.ParameterError, match="memo.m4a: the file is .* above the studio's .* limit"):
        h.check_speech(sound, command="talk")


def test_picking_another_face_drops_the_video_made_of_the_face_before(demo, tmp_path):
    # after a run for face 1, picking face 2 said "Face 2 talks. Add speech and press Make the talking portrait."
    # beside face 1's video and its download button
    from PIL import Image

    from facecraft.eval.images import load_image

    pick = _event(demo, "talk_face")
    assert [b.elem_id for b in pick.outputs] == ["talk-framing", "talk-video", "talk-download", "talk-status"]
    astronaut = load_image(h.sample_photo_path())
    photo = tmp_path / "pair.png"
    Image.fromarray(np.concatenate([astronaut, astronaut[:, ::-1]], axis=1)).save(photo)
    session, face, *_ = studio._talk_analyze(str(photo))
    assert len(session.faces) == 2 and face.interactive
    framing, video, download, status = studio._talk_face(session, 1)
    assert video is None and _greyed(download) and status.startswith(f"The {session.face_name(1)} talks.")
    assert session.face_name(1) in ("left face (--face 1)", "right face (--face 1)")
    assert framing.shape[0] == framing.shape[1] and np.array_equal(framing, h.talk_framing(session, 1))


def _offered(download: gr.DownloadButton) -> str | None:
    """The name of the file a download button offers (None: greyed out, or no file)."""
    return download.value["orig_name"] if download.interactive and download.value else None


def test_words_no_expression_reads_from_show_the_photo_unedited_not_the_edit_before():
    # the words' error went out as a toast only: the picture, the download and the status line ("text 'a shy smile'
    # read as ...") stayed those of the edit before, beside the words that were not applied
    session = h.analyze_photo(h.sample_photo_path())
    au, arkit = session.slider_values(0)
    compare, download, full_file, status, *_ = studio._edit(session, 0, studio.NO_EMOTION, 0.8, "a shy smile", False,
                                                             *au, *arkit)  # fmt: skip
    assert status.startswith("text 'a shy smile' (read as") and _offered(download) == Path(compare[1]).name
    with _no_toast():
        out = studio._edit(session, 0, studio.NO_EMOTION, 0.8, "purple monkey dishwasher", False, *au, *arkit)
    compare, download, full_file, status, *shown = out
    assert status.startswith("**expression text 'purple monkey dishwasher': no expression reads from these words")
    assert status.endswith("(the photo is shown unedited)")
    before, after = (np.asarray(Image.open(p).convert("RGB")) for p in compare)
    assert np.array_equal(before, after) and np.array_equal(after, session.image)
    assert download.value is None and not download.interactive and full_file is None
    assert all(v == gr.skip() for v in shown)


def test_the_download_is_greyed_out_until_an_edit_and_a_new_edit_empties_the_full_size_edit(tmp_path):
    # before any edit the download button did nothing when clicked; the full-size box was an empty box under every
    # photo, and the full-size edit it held stayed beside the next edits (another emotion, another face)
    out = studio._analyze_sample()
    download, full_button, full_file = out[3], out[4], out[5]
    assert download.value is None and not download.interactive
    assert not full_button.visible and full_file.value is None and not full_file.visible  # 512 px: edited as it is

    big = tmp_path / "big.png"
    Image.open(h.sample_photo_path()).convert("RGB").resize((h.EDIT_MAX_SIDE + 100,) * 2).save(big)
    session, _, _, download, full_button, full_file, *_ = studio._analyze(str(big))
    assert session.full_size == (h.EDIT_MAX_SIDE + 100,) * 2 and full_button.visible and full_file.visible
    assert full_file.value is None and not download.interactive
    au, arkit = session.slider_values(0)
    compare, download, full_file, status, *_ = studio._edit(session, 0, "surprise", 0.8, "", False, *au, *arkit)
    assert "emotion=surprise:0.800" in status and _offered(download) == Path(compare[1]).name
    assert full_file is None  # the full-size edit of the controls before goes


def test_reset_puts_the_intensity_back_too(demo):
    # Reset cleared the emotion, the words and the sliders but left the intensity at its last value
    reset = _event(demo, "reset")
    assert [b.elem_id for b in reset.outputs[:4]] == ["edit-emotion", "edit-intensity", "edit-text", "edit-download"]
    intensity = reset.outputs[1]
    assert intensity.value == h.DEFAULT_INTENSITY
    session = h.analyze_photo(h.sample_photo_path())
    emotion, value, text, download, *sliders = studio._reset(session, 0)
    assert (emotion, value, text) == (studio.NO_EMOTION, h.DEFAULT_INTENSITY, "") and not download.interactive
    assert sliders == [*session.slider_values(0)[0], *session.slider_values(0)[1]]
    assert len(studio._reset(None, None)) == len(reset.outputs)


def test_a_transparent_photos_edit_is_downloaded_transparent_as_facecraft_edit_writes_it(tmp_path):
    # the studio wrote a cut-out PNG's edit opaque on white, where `facecraft edit` keeps the transparency
    from facecraft.eval.images import load_image_with_traits, save_image

    rgb = np.asarray(Image.open(h.sample_photo_path()).convert("RGB"))
    alpha = np.full(rgb.shape[:2], 255, np.uint8)
    alpha[:, :80], alpha[:, 80:100] = 0, 128  # cut out at the left, a soft edge
    photo = tmp_path / "cutout.png"
    Image.fromarray(np.dstack([rgb, alpha])).save(photo)
    session = studio._analyze(str(photo))[0]
    au, arkit = session.slider_values(0)
    compare, download, *_ = studio._edit(session, 0, "happiness", 0.8, "", False, *au, *arkit)
    assert _offered(download) == Path(compare[1]).name == "cutout-edited.png"
    edited = Image.open(compare[1])
    assert edited.mode == "RGBA" and Image.open(compare[0]).mode == "RGBA"
    # as the command line writes it (synth.cli: save_image(..., like=traits, changed=result.mask, alpha=result.alpha))
    image, traits = load_image_with_traits(photo)
    out = h.apply_edit(session, face=0, emotion="happiness", intensity=0.8, au_values=au, arkit_values=arkit)
    save_image(out.after, tmp_path / "cli.png", like=traits, changed=out.mask, alpha=out.alpha)
    assert np.array_equal(np.asarray(edited), np.asarray(Image.open(tmp_path / "cli.png")))
    a = np.asarray(edited)[..., 3]
    # the alpha moved with the face (the edit's own), not made opaque wherever the edit changed a pixel
    assert out.alpha is not None and np.array_equal(a, out.alpha) and out.mask.max() > 0.5
    assert np.array_equal(a[:, :100], alpha[:, :100])


def test_the_shown_edit_of_a_cut_out_has_no_white_where_the_face_moved(tmp_path):
    # the Edit tab's picture and download wrote every pixel the edit changed opaque: white below a dropped chin
    from tests.synth.cutout_helpers import hull_alpha, white_patches
    from tests.synth.warp_helpers import astronaut_points

    photo, points, _ = astronaut_points()
    alpha = hull_alpha(points, photo.shape[:2])
    path = tmp_path / "cut.png"
    Image.fromarray(np.dstack([photo, alpha])).save(path)
    session = studio._analyze(str(path))[0]
    au, arkit = session.slider_values(0)
    compare, download, *_ = studio._edit(session, 0, "surprise", 1.0, "", False, *au, *arkit)
    written = np.asarray(Image.open(compare[1]))
    assert written.shape == (*photo.shape[:2], 4) and white_patches(alpha, written).sum() == 0


def test_the_refined_edit_of_a_cut_out_keeps_the_edits_transparency(tmp_path, monkeypatch):
    # "refine with diffusion" wrote a cut-out without the alpha the edit moved: opaque white below a dropped chin
    from tests.synth.cutout_helpers import hull_alpha, white_patches
    from tests.synth.test_adapter import tiny_adapter
    from tests.synth.test_refine import tiny_base
    from tests.synth.warp_helpers import astronaut_points

    base = tiny_base()
    base.save(tmp_path / "base")
    tiny_adapter(base.unet).save_pretrained(tmp_path / "adapter")
    models = h.shared_models()
    monkeypatch.setattr(models, "refine", h.RefineConfig(str(tmp_path / "base"), str(tmp_path / "adapter")))
    monkeypatch.setattr(models, "_refine_pipe", None)
    photo, points, _ = astronaut_points()
    alpha = hull_alpha(points, photo.shape[:2])
    Image.fromarray(np.dstack([photo, alpha])).save(tmp_path / "cut.png")
    session = studio._analyze(str(tmp_path / "cut.png"))[0]
    au, arkit = session.slider_values(0)
    compare, download, status = studio._refine(session, 0, "surprise", 1.0, "", 0.5, 4, 1.0, 0, *au, *arkit)
    assert "refined with diffusion" in status and _offered(download) == Path(compare[1]).name
    edit = h.apply_edit(session, face=0, emotion="surprise", intensity=1.0, au_values=au, arkit_values=arkit)
    written = np.asarray(Image.open(compare[1]))
    assert written.shape == (*photo.shape[:2], 4) and white_patches(alpha, written).sum() == 0
    np.testing.assert_array_equal(written[..., 3], edit.alpha)  # the geometric edit's alpha, moved with the face


def test_a_control_moved_after_a_photo_without_a_face_says_why_nothing_is_edited(tmp_path):
    # the Edit tab's status said "no face found in wall.png", and the next slider moved replaced it with "Upload a
    # photo or pick the sample first." right after the upload
    blank = tmp_path / "wall.png"
    Image.fromarray(np.full((256, 256, 3), 200, np.uint8)).save(blank)
    with _no_toast():
        session, *_ = studio._analyze(str(blank))
    au, arkit = [0.0] * len(studio.AU_NAMES), [0.0] * len(studio.ARKIT_NAMES)
    compare, download, full_file, status, *_ = studio._edit(session, 0, "surprise", 0.8, "", False, *au, *arkit)
    assert status.startswith("**no face found in wall.png")
    reset = studio._reset(session, 0)  # Reset keeps the message: nothing to put back
    assert len(reset) == len(studio.AU_NAMES) + len(studio.ARKIT_NAMES) + 4


def test_the_evaluate_and_augment_tabs_say_why_nothing_was_judged_in_their_status_line(demo, tmp_path):
    # a photo the Evaluate tab could not judge showed a red "Error" badge on each plot and the table, and the reason
    # in a toast alone, which went after a while (notes renamed .jpg: no toast was left at all)
    notes = tmp_path / "notes.jpg"
    notes.write_text("these are notes, not a photo\n")
    judge = _event(demo, "judge")
    assert [b.elem_id for b in judge.outputs][-1] == "eval-status"
    with _no_toast():
        *results, status = studio._judge(str(notes))
    assert results == [None] * (len(judge.outputs) - 1) and status.startswith("**Not judged: notes.jpg: not a")
    identity = _event(demo, "identity")
    assert [b.elem_id for b in identity.outputs][-1] == "eval-id-verdict"
    with _no_toast():
        detail, verdict = studio._identity(str(notes), h.sample_photo_path())
    assert detail is None and verdict.startswith("**Not compared: notes.jpg: not a readable image")
    augment = _event(demo, "augment")
    assert [b.elem_id for b in augment.outputs][-1] == "augment-status"
    with _no_toast():
        *results, status = studio._augment(None, None, ["fear"], 1, 4, progress=lambda *a, **k: 0)
    assert results == [None] * 4 and status == "**Nothing made: upload a zip of face images or a folder first**"


@pytest.mark.parametrize("name, button", [("animate", "animate-run"), ("talk", "talk-run"), ("augment", "augment-run"),
                                          ("identity", "eval-id-run")])  # fmt: skip
def test_a_run_button_is_greyed_out_while_its_run_goes(demo, name, button):
    # a second click on Animate while a run went started no second run (Gradio drops a trigger of a listener still
    # going), but it ran the click's first step again: the status line and the run's progress emptied, the page
    # looked idle while the run went on (seen in a browser)
    run = _event(demo, name)
    first = next(fn for fn in demo.fns.values() if fn.api_name == f"{name}_clear")
    done = next(fn for fn in demo.fns.values() if fn.api_name == f"{name}_done")
    assert [b.elem_id for b in first.outputs] == [b.elem_id for b in run.outputs] + [button]
    assert first.targets[0][1] == "click" and first.targets[0][0] == first.outputs[-1]._id and not first.queue
    assert run.trigger_after == first._id and done.trigger_after == run._id and not done.trigger_only_on_success
    *emptied, greyed = first.fn()
    assert all(v is None or _greyed(v) for v in emptied) and greyed.interactive is False
    assert [b.elem_id for b in done.outputs] == [button] and done.fn().interactive is True


def test_the_download_lists_offer_no_remove_button(demo):
    # the Animate tab's read-only list of downloads drew an x on each file (Gradio 6.31 draws one on every file of a
    # list of several, interactive or not), which took the file off the list
    files = [b for b in demo.blocks.values() if isinstance(b, gr.File) and b.interactive is False]
    assert {b.elem_id for b in files} >= {"animate-files", "augment-download", "edit-full-file"}
    assert all(studio.RESULT_FILES in b.elem_classes for b in files)
    assert f".{studio.RESULT_FILES} .label-clear-button {{ display: none; }}" in studio.STUDIO_CSS


def test_a_face_picked_or_reset_after_the_photo_went_is_said_in_the_status_line_not_a_toast():
    # The photo removed (the upload's x) or replaced by one with no face, then a face picked or Reset: the face picker
    # and the Talk tab's raised an error toast ("no photo with a face to use"), as did a face number of the photo
    # before. Now the sliders stay and the edit that follows says why in the status line; the Talk tab says it in its.
    session = h.analyze_photo(h.sample_photo_path())
    sliders = len(AU_NAMES) + len(ARKIT_NAMES)
    for state, face in ((None, None), (None, 1), (h.NoPhoto("no face found in wall.png"), 0), (session, 3)):
        assert studio._choose_face(state, face) == tuple(gr.skip() for _ in range(sliders))
        assert studio._reset(state, face) == tuple(gr.skip() for _ in range(sliders + 4))
        framing, video, download, status = studio._talk_face(state, face)
        assert framing is None and video is None and not download.interactive
        said = "no face found in wall.png" if isinstance(state, h.NoPhoto) else "no photo with a face to use"
        assert (said if state is not session else "3 requested but the photo has 1 face") in status
    *_, status = studio._edit(session, 3, studio.NO_EMOTION, 0.5, "", False, *(0.0,) * sliders)[:4]
    assert "3 requested but the photo has 1 face" in status  # the edit after the face picked or Reset says why
