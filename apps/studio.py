"""The Gradio studio: edit a photo's expression, animate speech, judge faces, in the browser.

Layout only: every event calls a function of :mod:`facecraft.apps.studio_handlers` (plain Python, tested
without a browser) through :func:`_ui`, which turns facecraft's errors into messages in the page
(``gr.Error``) so that a bad upload never stops the server. Each event has an ``api_name``, so the studio
can be scripted with ``gradio_client`` too. Start it with ``facecraft app`` (:mod:`facecraft.apps.studio_cli`).

Tabs: **Edit** (photo or sample, face, emotion + intensity, free text, AU sliders by region, ARKit sliders
by region, before/after, download; the photo is analysed once, each slider move only re-warps it),
**Animate** (speech -> preview video with sound, GLB, Live Link CSV, NPZ, JSON), **Talk** (a photo and speech ->
an MP4 of that face saying it, with the sound: the Edit tab's photo picker, the Animate tab's speech and emotion
controls, video size and rate), **Evaluate** (FER
probabilities of every judge, the 52 blendshape scores, identity distance of two photos), **Augment** (a
small ``facecraft augment`` run on an uploaded zip or folder: contact sheet, counts per emotion, a zip of the
result).
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
import threading
from collections.abc import Callable
from pathlib import Path

import gradio as gr
import pandas as pd

from facecraft.rigs import ARKIT_NAMES, AU_NAMES, EMOTIONS, FacecraftError, ParameterError
from facecraft.synth.refine_defaults import DEFAULT_GUIDANCE, DEFAULT_STEPS, DEFAULT_STRENGTH

from . import studio_handlers as h

log = logging.getLogger(__name__)

NO_EMOTION = "(none)"
#: Gradio's own upload limit, above the handlers' per-kind limits so that they give the clearer message (the largest:
#: a phone's video whose sound drives the face, h.MAX_VIDEO_BYTES; 60 MB turned away half a minute of 1080p).
MAX_UPLOAD = "1100mb"
JUDGE_NAMES: tuple[str, ...] = ("mini-xception", "networkv2", "facecraft")
#: Narrowest result column (pictures, plots, video) beside the controls (Gradio's columns: 320 px at least). A
#: narrower window puts it under the controls at full width, instead of both columns at about half the width.
RESULT_MIN_WIDTH = 480
#: Height (px) of the Animate and Talk tabs' videos: at the result column's full width a square video was 800 px tall
#: in a 1280 x 800 window, and the status line that says it is done, the downloads and their button were below the
#: window's edge.
VIDEO_HEIGHT = 480


def _ui(fn=None, *, failed=None):
    """Run a handler; facecraft errors (bad files, no face, missing models) become a message in the page.

    With ``failed(message)`` (``@_ui(failed=...)``) the outputs it returns show the message (a status line that
    says why nothing was made, the run's old result emptied), and no toast: a warning toast stayed 10 s, over the
    next run's result when that came sooner (Gradio gives a handler no way to take a toast back). Else an error
    toast alone.
    """
    if fn is None:
        return functools.partial(_ui, failed=failed)

    def said(message: str, title: str):
        if failed is None:
            raise gr.Error(message, title=title) from None
        return failed(message)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except FacecraftError as e:  # a user's mistake: one log line, no trace
            log.info("studio: %s: %s", fn.__name__, e)
            return said(for_people(str(e)), type(e).__name__)
        except Exception as e:  # the server keeps serving whatever a handler hits; the log has the trace
            log.exception("studio: %s failed", fn.__name__)
            return said(for_people(f"unexpected error ({type(e).__name__}): {e}"), "Internal error")

    return wrapper


def _nothing_made(results: int | Callable[[], tuple], *, said: str = "Nothing made"):
    """``failed`` of :func:`_ui` for a run whose outputs are ``results`` results, then its status line: the results
    emptied, the status saying why, after ``said`` (the run's first step empties the status; the reason went to a
    toast alone, which went). ``results``: how many (each emptied to None), or a function giving them emptied (e.g.
    :func:`_no_video`)."""
    emptied = results if callable(results) else _blank(results)
    return lambda message: (*emptied(), f"**{said}: {message}**")


#: The folder part of an upload's path in the server's temporary store (``/tmp/gradio/<hash>/photo.jpg``).
_UPLOAD_DIR = re.compile(r"[^\s'\"(]*/gradio/[0-9a-f]{8,}/")


def for_people(message: str) -> str:
    """A message with uploads named as the user named them, not by the server's temporary paths."""
    return _UPLOAD_DIR.sub("", message)


def _blank(n: int):
    """An event step that empties ``n`` outputs (a run's old result must not stay beside a new error)."""
    return lambda: tuple(None for _ in range(n))


def _run_button(run: gr.Button, name: str, emptied: Callable[[], tuple], fn, *, outputs, **options) -> None:
    """``run``'s click: the results before emptied at once (``emptied()``, one per output) and ``run`` greyed out,
    then ``fn`` (API ``name``; ``options`` to its listener), then ``run`` back. A click while a run went (no second
    run: Gradio drops a trigger of a listener still going) emptied the results and the status line again, and with
    them the progress shown: the page looked idle while the run went on, a click away from another click.

    The first and last steps are API ``name_clear`` and ``name_done``, undocumented."""
    run.click(
        lambda: (*emptied(), gr.Button(interactive=False)), outputs=[*outputs, run], queue=False,
        api_name=f"{name}_clear", api_visibility="undocumented",
    ).then(
        fn, outputs=outputs, api_name=name, **options
    ).then(  # after a failed run too (.then, not .success)
        _run_again, outputs=run, queue=False, api_name=f"{name}_done", api_visibility="undocumented"
    )  # fmt: skip


def _run_again() -> gr.Button:
    """A run's last step: its button back (:func:`_run_button`)."""
    return gr.Button(interactive=True)


#: Run in the page on load. A slider's number box left empty (or holding text the browser cannot read as a
#: number) would show, and send with the next edit, 0 once it loses focus: Gradio's page clamps "no number"
#: to the minimum. The box gets back the value it had when it took the focus, sent as an input (an edit).
SLIDER_BOX_JS = """
() => {
  const before = new WeakMap();
  const sliderBox = (e) => {
    const box = e.target;
    const ok = box instanceof HTMLInputElement && box.type === "number";
    return ok && box.closest(".block")?.querySelector("input[type=range]") ? box : null;
  };
  document.addEventListener("focus", (e) => {
    const box = sliderBox(e);
    if (box && box.value !== "") before.set(box, box.value);
  }, true);
  document.addEventListener("blur", (e) => {
    const box = sliderBox(e);
    if (!box || box.value !== "" || !before.has(box)) return;
    box.value = before.get(box);
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }, true);
}
"""


#: Class of a file box that offers results to download (:data:`STUDIO_CSS`).
RESULT_FILES = "result-files"
#: The studio's style sheet. A gr.File of several files drew a remove button (x) on each, interactive or not
#: (Gradio 6.31's file list; no option turns it off): in the Animate tab's read-only downloads it took a file off
#: the list.
STUDIO_CSS = f".{RESULT_FILES} .label-clear-button {{ display: none; }}"


def _emotion(value: str | None) -> str | None:
    return None if not value or value == NO_EMOTION else value


# ---------------------------------------------------------------------------------------------- photo
def _photo_picker(tab: str) -> tuple[gr.File, gr.Button, gr.Dropdown]:
    """The photo upload, the sample photo's button and the face picker (the Edit and Talk tabs)."""
    photo = gr.File(label="Photo (JPEG, PNG, WebP, ...)", type="filepath", elem_id=f"{tab}-photo")
    sample = gr.Button(f"Use the sample photo ({h.SAMPLE_PHOTO})", elem_id=f"{tab}-sample")
    face = gr.Dropdown(label="Face", choices=[], interactive=False, elem_id=f"{tab}-face")
    return photo, sample, face


class _Shown:
    """Which photo a tab shows (the Edit and Talk tabs' ``gr.State``): a number each new photo (an upload, the
    sample) and each removal advances, so that a result made for a photo no longer shown is dropped
    (:func:`_for_shown`)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.turn = 0

    def __deepcopy__(self, memo):  # gr.State copies its value for each browser tab: each starts with a photo of its own
        return _Shown()

    def advance(self) -> int:
        with self._lock:
            self.turn += 1
            return self.turn


def _for_shown(fn, outputs: int, *, new: bool = False):
    """``fn`` as a listener that takes the tab's :class:`_Shown` first, whose result is dropped (its ``outputs``
    left as they are) when the tab's photo changed while it ran; ``new``: ``fn`` shows a new photo (or none), and
    whatever still runs for the photo before is dropped. An analysis still going when its photo was removed (the
    upload's x) brought the photo back, and one of a photo replaced showed its faces beside the next photo's name; a
    talking portrait of a removed photo came after it. Gradio's ``cancels=`` alone does not do it: it takes a run
    off the queue, but one already running is left to finish (Gradio 6.31's words)."""

    def listener(shown: _Shown, *args, **kwargs):
        turn = shown.advance() if new else shown.turn
        out = fn(*args, **kwargs)
        if shown.turn != turn:
            log.info("studio: %s: dropped, its photo is no longer shown", fn.__name__)
            return gr.skip() if outputs == 1 else tuple(gr.skip() for _ in range(outputs))
        return out

    signature = inspect.signature(fn)  # Gradio reads it (how many inputs; where gr.Progress goes)
    first = inspect.Parameter("shown", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    listener.__signature__ = signature.replace(parameters=[first, *signature.parameters.values()])
    listener.__name__ = listener.__qualname__ = fn.__name__
    listener.__doc__ = fn.__doc__
    return listener


def _photo_events(
    photo: gr.File, sample: gr.Button, shown: gr.State, outputs: list, *, analyze, analyze_sample, cleared,
    api: tuple[str, str], status: gr.Markdown,
) -> None:  # fmt: skip
    """The Edit and Talk tabs' photo picker wired: an upload analysed (``analyze``), the sample (``analyze_sample``;
    ``api``: their API names), and the photo removed (the upload's x: ``cleared``), each to ``outputs``; a new photo
    or a removal drops any result still coming for the photo before (:func:`_for_shown`).

    The upload's listener takes a second upload made while the first's analysis runs (``always_last``; Gradio drops a
    trigger of a listener still going: the second photo was never analysed, and the first's faces stayed beside its
    name). The removal is a listener of its own: one listener for both (gr.on) ran once at a time and dropped an
    upload made while the clear's run was still going (the browser test's next upload, on a loaded machine)."""
    n = len(outputs)
    uploaded = photo.upload(
        _for_shown(analyze, n, new=True), inputs=[shown, photo], outputs=outputs, api_name=api[0],
        trigger_mode="always_last", show_progress_on=status,
    )  # fmt: skip
    picked = sample.click(
        _for_shown(analyze_sample, n, new=True), inputs=shown, outputs=outputs, api_name=api[1],
        show_progress_on=status,
    )  # fmt: skip
    # an analysis still waiting for its turn (another tab's went first) is taken off the queue: started later, it
    # would count as the newest photo
    photo.clear(
        _for_shown(cleared, n, new=True), inputs=shown, outputs=outputs, queue=False, api_name=False,
        show_progress="hidden", cancels=[uploaded, picked],
    )  # fmt: skip


def _face_picker(session: h.EditSession | None, *, every: bool = True) -> gr.Dropdown:
    """The face picker for a photo's faces, on the largest (``every``: "all faces" first, when several); empty
    without a photo."""
    if session is None:
        return gr.Dropdown(choices=[], value=None, interactive=False)
    choices = session.face_choices(every=every)
    return gr.Dropdown(choices=choices, value=choices[0][1], interactive=len(choices) > 1)


def _analysed(path, shown, failed):
    """``shown(session)`` for the photo at ``path`` analysed, or ``failed(message)`` when it cannot be (not an
    image, no face): the status line says why (no toast, as :func:`_ui` with ``failed``), and the photo before is
    dropped."""
    try:
        return shown(h.analyze_photo(path))
    except FacecraftError as e:
        message = for_people(str(e))
        log.info("studio: analyze: %s", message)
        return failed(message)


# ---------------------------------------------------------------------------------------------- edit
def _download(path: str | None) -> gr.DownloadButton:
    """A download button (the Edit and Talk tabs') holding ``path``; greyed out without a file (a click on it did
    nothing)."""
    return gr.DownloadButton(value=path, interactive=path is not None)


def _full_file(session: h.EditSession | None) -> gr.File:
    """The full-size edit's box, emptied: shown only for a photo the studio edits scaled down (for any other photo it
    was an empty box that looked like a second upload)."""
    return gr.File(value=None, visible=session is not None and session.full_size is not None)


def _analysis_outputs(session: h.EditSession):
    au, arkit = session.slider_values(0)
    before = h.save_png(session.image, stem="before", like=session.traits)
    status = (
        f"{session.note}; {len(session.faces)} face(s) found in {session.analyze_ms:.0f} ms. "
        "Move a slider or pick an emotion."
    )
    full = session.full_size
    return (
        session,
        _face_picker(session),
        (before, before),
        _download(None),
        gr.Button(f"Edit at full size ({full[0]}x{full[1]}) for the download", visible=True)
        if full
        else gr.Button(visible=False),
        _full_file(session),  # a full-size edit of the photo before goes
        status,
        *au,
        *arkit,
    )


def _analysis_failed(message: str):
    """A photo that cannot be edited replaces the one before: nothing stays that a click would still edit."""
    sliders = len(AU_NAMES) + len(ARKIT_NAMES)
    return (
        h.NoPhoto(message),  # a control moved next says why nothing is edited (it said "upload a photo first")
        _face_picker(None),
        None,
        _download(None),
        gr.Button(visible=False),
        _full_file(None),
        f"**{message}**",
        *(gr.skip() for _ in range(sliders)),
    )


@_ui
def _analyze(path):
    return _analysed(path, _analysis_outputs, _analysis_failed)


def _edit_cleared():
    """The Edit tab as it starts, its photo removed (the upload's x): no photo, quietly. A removal is no mistake: it
    showed the warning toast of a photo that could not be used, "no photo: upload one or pick the sample"; a control
    moved next says what to do (:func:`_edit`)."""
    sliders = len(AU_NAMES) + len(ARKIT_NAMES)
    return (
        None, _face_picker(None), None, _download(None), gr.Button(visible=False), _full_file(None), _EDIT_START,
        *(gr.skip() for _ in range(sliders)),
    )  # fmt: skip


@_ui
def _analyze_sample():
    return _analysed(h.sample_photo_path(), _analysis_outputs, _analysis_failed)


def _face_sliders(session: h.EditSession | h.NoPhoto | None, face) -> tuple | None:
    """The AU and ARKit slider values of ``face`` (:meth:`h.EditSession.slider_values`), or None when the tab has no
    photo with that face: removed meanwhile (the upload's x, then a face picked or Reset), one that could not be
    used, or a face number of the photo before. The edit that follows says why in the status line (:func:`_edit`);
    these raised an error toast over it."""
    if not isinstance(session, h.EditSession):
        return None
    try:
        return session.slider_values(face)
    except ParameterError:
        return None


@_ui
def _choose_face(session: h.EditSession | None, face):
    values = _face_sliders(session, face)
    if values is None:  # no photo now: the sliders stay, the edit next says why
        return tuple(gr.skip() for _ in range(len(AU_NAMES) + len(ARKIT_NAMES)))
    au, arkit = values
    return (*au, *arkit)


@_ui
def _edit(session, face, emotion, intensity, text, keep_glasses, *values):
    """The edit (picture, download, the full-size edit emptied, status), then the intensity and slider values to
    show: those typed outside their range, as used.

    Wired with ``preprocess=False``: the sliders' values arrive as typed (Gradio's own check would refuse a
    value out of range, and the page would show it clamped without editing with it); ``h.read_sliders`` takes
    each into the range, and a box holding no number makes the edit wait for one. Controls that cannot be read
    (words no expression reads from) show the photo unedited and say why: the edit before stayed in the picture
    and the download, under its own status line, beside the words that were not applied.
    """
    unchanged = tuple(gr.skip() for _ in range(1 + len(values)))
    if session is None:  # a control moved (or Reset) before any photo: say so, no error
        return gr.skip(), gr.skip(), gr.skip(), "Upload a photo or pick the sample first.", *unchanged
    if isinstance(session, h.NoPhoto):  # the last photo could not be used: say why again
        return gr.skip(), gr.skip(), gr.skip(), f"**{session.reason}**", *unchanged
    n = len(AU_NAMES)
    typed = h.read_sliders(intensity, values[:n], values[n:])
    if typed.blank:  # someone is typing: keep the picture and the box as they are
        return gr.skip(), gr.skip(), gr.skip(), f"**{typed.note()}**", *unchanged
    try:
        out = h.apply_edit(
            session, face=-1 if face is None else face, emotion=_emotion(emotion), intensity=typed.intensity,
            text=text, au_values=typed.au_values, arkit_values=typed.arkit_values, keep_glasses=bool(keep_glasses),
        )  # fmt: skip
    except FacecraftError as e:  # said in the status line, no toast (as _ui with failed)
        message = for_people(str(e))
        log.info("studio: edit: %s", message)
        before = h.save_png(session.image, stem="before", like=session.traits)
        return (before, before), _download(None), None, f"**{message}** (the photo is shown unedited)", *unchanged
    before = h.save_png(out.before, stem="before", like=session.traits)
    after = h.save_png(
        out.after, stem=f"{session.stem}-edited", like=session.traits, changed=out.mask, alpha=out.alpha
    )  # a cut-out's alpha moved with the face
    message = f"{out.message}; {typed.note()}" if typed.clamped else out.message
    shown = [
        gr.update(value=typed.clamped[name][1]) if name in typed.clamped else gr.skip()
        for name in ("intensity", *AU_NAMES, *ARKIT_NAMES)
    ]
    return (before, after), _download(after), None, message, *shown


@_ui
def _full_size(session, face, emotion, intensity, text, keep_glasses, *values):
    n = len(AU_NAMES)
    path = h.full_size_edit(
        session, face=-1 if face is None else face, emotion=_emotion(emotion), intensity=intensity, text=text,
        au_values=values[:n], arkit_values=values[n:], keep_glasses=bool(keep_glasses),
    )  # fmt: skip
    return path, f"full-size edit ready: {Path(path).name}"


@_ui
def _refine(session, face, emotion, intensity, text, strength, steps, guidance, seed, *values):
    n = len(AU_NAMES)
    out = h.refine_edit(
        session, face=-1 if face is None else face, emotion=_emotion(emotion), intensity=intensity, text=text,
        au_values=values[:n], arkit_values=values[n:], strength=strength, steps=steps, guidance=guidance,
        seed=seed,
    )  # fmt: skip
    before = h.save_png(out.before, stem="before", like=session.traits)
    after = h.save_png(
        out.after, stem=f"{session.stem}-refined", like=session.traits, changed=out.mask, alpha=out.alpha
    )  # the edit's alpha: the refine changes colour only
    return (before, after), _download(after), out.message


@_ui
def _reset(session, face):
    """Every control back to where a new photo starts: no emotion, the intensity's default, no words, the sliders at
    the face's own values (the intensity stayed at its last value)."""
    values = _face_sliders(session, face)
    if values is None:  # no photo now: nothing to put back, the edit next says why
        return tuple(gr.skip() for _ in range(len(AU_NAMES) + len(ARKIT_NAMES) + 4))
    au, arkit = values
    return NO_EMOTION, h.DEFAULT_INTENSITY, "", _download(None), *au, *arkit


def _slider_grid(
    groups: dict[str, list[str]], label, *, kind: str, order: tuple[str, ...], open_region: str | None = None
) -> list[gr.Slider]:
    """Sliders laid out by region, returned in ``order`` (the handlers' value order, not the layout's)."""
    by_name: dict[str, gr.Slider] = {}
    for region, names in groups.items():
        with gr.Accordion(region, open=region == open_region, elem_id=f"{kind}-{region.replace(' ', '-')}"):
            with gr.Row():
                for name in names:
                    by_name[name] = gr.Slider(
                        0.0, 1.0, value=0.0, step=0.01, label=label(name), min_width=220, elem_id=f"slider-{name}"
                    )
    return [by_name[name] for name in order]


#: The Edit tab's status line with no photo (on load, and when the photo is removed).
_EDIT_START = "Upload a photo or pick the sample."


def _edit_tab() -> None:
    session = gr.State(None)
    shown = gr.State(_Shown())  # which photo: a result for one no longer shown is dropped
    with gr.Row():
        with gr.Column(scale=1):
            photo, sample, face = _photo_picker("edit")
            emotion = gr.Dropdown([NO_EMOTION, *EMOTIONS], value=NO_EMOTION, label="Emotion", elem_id="edit-emotion")
            intensity = gr.Slider(
                0.0, 1.0, value=h.DEFAULT_INTENSITY, step=0.05, label="Intensity", elem_id="edit-intensity"
            )
            text = gr.Textbox(label="Free text (Enter to apply)", placeholder="a shy smile", elem_id="edit-text")
            keep_glasses = gr.Checkbox(
                False,
                label="Keep glasses straight (the brows move behind the frame)",
                elem_id="edit-keep-glasses",
            )
            with gr.Row():
                apply = gr.Button("Apply", variant="primary", elem_id="edit-apply")
                reset = gr.Button("Reset", elem_id="edit-reset")
        with gr.Column(scale=2, min_width=RESULT_MIN_WIDTH):
            compare = gr.ImageSlider(label="Before / after", type="filepath", elem_id="edit-compare")
            status = gr.Markdown(_EDIT_START, elem_id="edit-status")
            download = gr.DownloadButton(
                "Download the edited photo (PNG)", value=None, interactive=False, elem_id="edit-download"
            )
            # Photos above the studio's editing size are edited scaled down (for speed); this edits the original.
            full_size = gr.Button("Edit at full size", visible=False, elem_id="edit-full-size")
            full_file = gr.File(
                label="Full-size edit (PNG)",
                interactive=False,
                visible=False,
                elem_id="edit-full-file",
                elem_classes=RESULT_FILES,
            )
    gr.Markdown("Sliders start at the face's own values; a slider you move sets that channel.")
    with gr.Accordion("Action Units (FACS), by region", open=True):
        au_sliders = _slider_grid(h.au_groups(), h.au_label, kind="au", order=AU_NAMES, open_region="mouth")
    with gr.Accordion("ARKit blendshapes, by region", open=False):
        arkit_sliders = _slider_grid(h.arkit_groups(), str, kind="arkit", order=ARKIT_NAMES)
    # Shown only when a diffusion base and an AU adapter are configured (facecraft app --refine-base/--adapter).
    refine_ok, refine_msg = h.refine_status(h.shared_models().refine)
    with gr.Accordion("Refine with diffusion", open=False, visible=refine_ok, elem_id="edit-refine"):
        gr.Markdown(f"The edit above, then an AU-conditioned diffusion pass over the face: {refine_msg}.")
        with gr.Row():
            strength = gr.Slider(
                0.05, 1.0, value=DEFAULT_STRENGTH, step=0.05, label="Strength (share of the schedule re-run)"
            )
            steps = gr.Slider(2, 50, value=DEFAULT_STEPS, step=1, label="DDIM steps")
            guidance = gr.Slider(1.0, 5.0, value=DEFAULT_GUIDANCE, step=0.1, label="AU guidance")
            seed = gr.Number(value=0, precision=0, label="Seed")
        refine = gr.Button("Refine with diffusion", elem_id="edit-refine-run")
    sliders = au_sliders + arkit_sliders
    edit_in = [shown, session, face, emotion, intensity, text, keep_glasses, *sliders]
    # a new edit empties the full-size edit of the one before; sliders typed out of range show the value used
    edit_out = [compare, download, full_file, status, intensity, *sliders]
    # an edit, full-size edit or refine still going when its photo was removed or replaced is dropped
    edit = _for_shown(_edit, len(edit_out))

    analysis_out = [session, face, compare, download, full_size, full_file, status, *sliders]
    # Progress and error badges on the status line only, not on each of the 77 sliders. A photo removed (the
    # upload's x) is dropped, the tab back as it starts: the sliders edited it still
    _photo_events(
        photo, sample, shown, analysis_out, analyze=_analyze, analyze_sample=_analyze_sample, cleared=_edit_cleared,
        api=("analyze", "analyze_sample"), status=status,
    )  # fmt: skip
    face.input(
        _choose_face, inputs=[session, face], outputs=sliders, api_name="choose_face", show_progress="hidden"
    ).then(  # the picture follows the face chosen
        edit, inputs=edit_in, outputs=edit_out, preprocess=False, show_progress_on=status
    )
    full_size.click(
        _for_shown(_full_size, 2), inputs=edit_in, outputs=[full_file, status], api_name="full_size",
        show_progress_on=status,
    )  # fmt: skip
    gr.on(
        [apply.click, text.submit, emotion.input, intensity.input, keep_glasses.input, *(s.input for s in sliders)],
        edit,
        inputs=edit_in,
        outputs=edit_out,
        api_name="edit",
        preprocess=False,
        trigger_mode="always_last",
        show_progress="minimal",
        show_progress_on=status,
    )
    refine.click(
        _for_shown(_refine, 3),
        inputs=[shown, session, face, emotion, intensity, text, strength, steps, guidance, seed, *sliders],
        outputs=[compare, download, status], api_name="refine", show_progress_on=status,
    )  # fmt: skip
    reset.click(
        _reset, inputs=[session, face], outputs=[emotion, intensity, text, download, *sliders], api_name="reset",
        show_progress="hidden",
    ).then(edit, inputs=edit_in, outputs=edit_out, preprocess=False, show_progress_on=status)  # fmt: skip


# ---------------------------------------------------------------------------------------------- speech
def _speech_input(tab: str, *, transcript: str) -> tuple[list[gr.components.Component], gr.Textbox]:
    """The speech, a file or the microphone's recording (both, in :func:`_speech`'s order), and its transcript box
    (the Animate and Talk tabs); ``transcript`` says what the transcript is used for.

    The file is a :class:`gr.File` for every ending ``facecraft animate`` reads (sound files, and through ffmpeg a
    video's sound: :data:`~facecraft.audio2face.batch.AUDIO_SUFFIXES`), checked as it arrives
    (:func:`_speech_wiring`): gr.Audio's upload box takes ``audio/*`` only and turned away a phone's or a browser's
    recording (.webm, .mov, .mp4) and a video whose sound should drive the face, and Gradio's own filter of endings
    (``file_types``) turned a photo away without a word. Recording drops the uploaded file, so the speech used is the
    one given last.
    """
    upload = gr.File(
        label="Speech: a sound file or a video's sound (WAV, MP3, M4A, OGG, FLAC, WebM, MP4, MOV, ...)",
        type="filepath", elem_id=f"{tab}-audio",
    )  # fmt: skip
    record = gr.Audio(
        sources=["microphone"], type="filepath", format=None, label="or record it", elem_id=f"{tab}-record"
    )
    record.stop_recording(_none, outputs=upload, queue=False, api_name=False, show_progress="hidden")
    words = gr.Textbox(label=f"Transcript (optional; {transcript})", lines=2, elem_id=f"{tab}-transcript")
    return [upload, record], words


def _none():
    """An event step that empties its one output (the other speech input, when one is given)."""
    return None


def _speech_wiring(
    audio: list[gr.components.Component], results: list[gr.components.Component], status, emptied=None
) -> None:
    """A file uploaded to a speech tab's box (``audio``, from :func:`_speech_input`) drops the recording (the speech
    given last is used) and is checked as it arrives (:func:`_speech_uploaded`); ``results``: the tab's two results
    (video, files), emptied when it is refused (``emptied()``; default both None)."""
    upload, record = audio
    upload.upload(
        functools.partial(_speech_uploaded, emptied=emptied), inputs=upload,
        outputs=[record, upload, *results, status], api_name=False, show_progress="hidden",
    )  # fmt: skip


def _speech_uploaded(path, emptied: Callable[[], tuple] | None = None):
    """The recording dropped, and a file the speech tabs do not read refused in words (a .jpg met Gradio's filter of
    endings, which said nothing and left the result before in place as if it were the answer): taken out of the
    box, the results before emptied (``emptied()``), the status line saying what was refused and what is taken (no
    toast, as :func:`_ui` with ``failed``)."""
    try:
        h.check_speech_upload(path)
    except FacecraftError as e:
        message = for_people(str(e))
        log.info("studio: speech: %s", message)
        return None, None, *(emptied or _blank(2))(), f"**Speech not taken: {message}**"
    return None, gr.skip(), gr.skip(), gr.skip(), gr.skip()


def _speech(upload, recording):
    """The speech to use: the uploaded file, else the microphone's recording (None when neither is given)."""
    return upload or recording


def _emotion_input(tab: str) -> list[gr.components.Component]:
    """The speech tabs' emotion controls, in :func:`_speech_emotion`'s order: emotion, intensity, and an emotion
    track (JSON keys or a file) that overrides them."""
    emotion = gr.Dropdown([NO_EMOTION, *EMOTIONS], value=NO_EMOTION, label="Emotion", elem_id=f"{tab}-emotion")
    intensity = gr.Slider(0.0, 1.0, value=h.DEFAULT_INTENSITY, step=0.05, label="Intensity", elem_id=f"{tab}-intensity")
    with gr.Accordion("Emotion track (overrides the emotion)", open=False):
        track_text = gr.Code(
            label='Keys: [{"t": 0.0, "emotion": "happiness", "intensity": 0.8}, ...]', language="json", value="",
            elem_id=f"{tab}-track",
        )  # fmt: skip
        track_file = gr.File(
            label="or a track .json file", type="filepath", file_types=[".json"], elem_id=f"{tab}-track-file"
        )
    return [emotion, intensity, track_text, track_file]


def _speech_emotion(emotion, intensity, track_text, track_file) -> dict:
    """The emotion controls' values (:func:`_emotion_input`) as the speech handlers' keyword arguments."""
    return {"emotion": _emotion(emotion), "intensity": intensity, "track": track_file if track_file else track_text}


# ---------------------------------------------------------------------------------------------- animate
@_ui(failed=_nothing_made(2))
def _animate(
    upload, recording, transcript, mode, emotion, intensity, track_text, track_file,
    progress=gr.Progress(),  # noqa: B008
):  # fmt: skip
    progress(0.1, desc="animating")
    out = h.animate_speech(
        _speech(upload, recording), transcript=transcript, mode=mode,
        **_speech_emotion(emotion, intensity, track_text, track_file),
    )  # fmt: skip
    return out.video, [out.files[k] for k in h.ANIMATE_OUTPUTS], out.message


def _animate_tab() -> None:
    with gr.Row():
        with gr.Column(scale=1):
            audio, transcript = _speech_input("animate", transcript="the procedural mode aligns it")
            mode = gr.Radio(["learned", "procedural"], value="learned", label="Mode")
            emotion = _emotion_input("animate")
            run = gr.Button("Animate", variant="primary", elem_id="animate-run")
        with gr.Column(scale=2, min_width=RESULT_MIN_WIDTH):
            video = gr.Video(
                label="Preview (default rig, with sound)", elem_id="animate-video", interactive=False,
                height=VIDEO_HEIGHT,
            )  # fmt: skip
            status = gr.Markdown(elem_id="animate-status")
            files = gr.File(
                label="Downloads: GLB (mesh + shape keys + animation), Live Link Face CSV, NPZ, JSON",
                file_count="multiple", elem_id="animate-files", interactive=False, elem_classes=RESULT_FILES,
            )  # fmt: skip
    _speech_wiring(audio, [video, files], status)
    _run_button(run, "animate", _blank(3), _animate, inputs=[*audio, transcript, mode, *emotion],
                outputs=[video, files, status])  # fmt: skip


# ---------------------------------------------------------------------------------------------- talk
_TALK_NEXT = "Add speech and press Make the talking portrait."
#: The Talk tab's status line with no photo (on load, and when the photo is removed).
_TALK_START = "Upload a photo or pick the sample, then add speech."


def _no_video() -> tuple:
    """The Talk tab's results emptied: no video, and its download greyed out (a click on it did nothing)."""
    return None, _download(None)


def _talk_clear() -> tuple:
    """A run's first step: the video before and the status emptied."""
    return *_no_video(), None


def _talk_shown(session: h.EditSession):
    """A photo's analysis in the Talk tab: the face picker (on the largest face), the square the video shows, no
    video yet, the status."""
    status = f"{session.note}; {len(session.faces)} face(s) found"
    if len(session.faces) > 1:
        status += f"; the {session.face_name(0)}, the largest, talks unless you pick another under Face"
    problem = h.talk_face_problem(session, 0)
    status += f". **{problem}**" if problem else f". {_TALK_NEXT}"
    return session, _face_picker(session, every=False), h.talk_framing(session, 0), *_no_video(), status


def _talk_failed(message: str):
    """A photo that cannot talk replaces the one before (and its video); the tab keeps why, which a run then says
    (:class:`h.NoPhoto`)."""
    return h.NoPhoto(message), _face_picker(None), None, *_no_video(), f"**{message}**"


@_ui
def _talk_analyze(path):
    return _analysed(path, _talk_shown, _talk_failed)


def _talk_cleared():
    """The Talk tab as it starts, its photo removed (the upload's x): no photo, framing or video, quietly (it showed
    a warning toast, "no photo: upload one or pick the sample"); a run next says what to do."""
    return None, _face_picker(None), None, *_no_video(), _TALK_START


@_ui
def _talk_sample():
    return _analysed(h.sample_photo_path(), _talk_shown, _talk_failed)


@_ui(failed=lambda message: (None, *_no_video(), f"**{message}**"))
def _talk_face(session, face):
    """Another face picked: its framing and status, and the video made of the face before dropped (it stayed, with
    its download, beside "Face 2 talks"). No photo now (removed meanwhile, or one that could not be used) or a face
    the photo does not have: the status line says so (it was an error toast)."""
    session = h.require_session(session)
    problem = h.talk_face_problem(session, face)
    status = f"**{problem}**" if problem else f"The {session.face_name(face)} talks. {_TALK_NEXT}"
    return h.talk_framing(session, face), *_no_video(), status


@_ui(failed=_nothing_made(_no_video))
def _talk(
    session, face, size, fps, upload, recording, transcript, emotion, intensity, track_text, track_file,
    keep_glasses=False, progress=gr.Progress(track_tqdm=True),  # noqa: B008 - the frames' tqdm bar shows in the page
):  # fmt: skip
    out = h.talking_portrait(
        session, _speech(upload, recording), face=0 if face is None else face, size=size, fps=fps,
        transcript=transcript, keep_glasses=bool(keep_glasses),
        progress=lambda fraction, what: progress(fraction, desc=what),
        **_speech_emotion(emotion, intensity, track_text, track_file),
    )  # fmt: skip
    return out.video, _download(out.video), out.message


def _talk_tab() -> None:
    session = gr.State(None)
    shown = gr.State(_Shown())  # which photo: a result for one no longer shown is dropped
    with gr.Row():
        with gr.Column(scale=1):
            photo, sample, face = _photo_picker("talk")
            framing = gr.Image(
                label="What the video shows of the photo", type="numpy", interactive=False, height=200,
                elem_id="talk-framing",
            )  # fmt: skip
            audio, transcript = _speech_input("talk", transcript="closes the lips on every p, b and m")
            emotion = _emotion_input("talk")
            with gr.Row():
                size = gr.Radio(list(h.TALK_SIZES), value=512, label="Video size (px, square)", elem_id="talk-size")
                fps = gr.Radio(list(h.TALK_FPS), value=25, label="Frames per second", elem_id="talk-fps")
            keep_glasses = gr.Checkbox(
                False, label="Keep glasses on the face (the frame moves with the head, not the brows)",
                elem_id="talk-keep-glasses",
            )  # fmt: skip
            run = gr.Button("Make the talking portrait", variant="primary", elem_id="talk-run")
        with gr.Column(scale=2, min_width=RESULT_MIN_WIDTH):
            video = gr.Video(
                label="Talking portrait (with sound)", elem_id="talk-video", interactive=False, height=VIDEO_HEIGHT
            )
            status = gr.Markdown(_TALK_START, elem_id="talk-status")
            download = gr.DownloadButton(
                "Download the video (MP4)", value=None, interactive=False, elem_id="talk-download"
            )
    # a photo removed (the upload's x) is dropped with its framing and video, the tab back as it starts: the run made
    # it talk still
    _photo_events(
        photo, sample, shown, [session, face, framing, video, download, status], analyze=_talk_analyze,
        analyze_sample=_talk_sample, cleared=_talk_cleared, api=("talk_analyze", "talk_sample"), status=status,
    )  # fmt: skip
    face.input(
        _talk_face, inputs=[session, face], outputs=[framing, video, download, status], api_name="talk_face",
        show_progress="hidden",
    )  # fmt: skip
    _speech_wiring(audio, [video, download], status, _no_video)
    _run_button(  # a video still being made when its photo was removed or replaced is dropped
        run, "talk", _talk_clear, _for_shown(_talk, 3),
        inputs=[shown, session, face, size, fps, *audio, transcript, *emotion, keep_glasses],
        outputs=[video, download, status], show_progress_on=video,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------- evaluate
# A photo the Evaluate tab cannot judge (no face, not an image) or compare: the reason in its status line, the results
# emptied. It showed a red "Error" badge on each plot and table, and the reason in a toast alone, which went.
@_ui(failed=_nothing_made(len(JUDGE_NAMES) + 1, said="Not judged"))
def _judge(path):
    fer = h.fer_probabilities(path)
    plots = []
    for name in JUDGE_NAMES:
        probs = fer.probabilities.get(name)
        if probs is None:
            why = fer.unavailable.get(name, "not run")
            plots.append(gr.BarPlot(value=None, label=f"{name}: unavailable ({why})"))
        else:
            frame = pd.DataFrame({"emotion": list(EMOTIONS), "probability": probs})
            plots.append(gr.BarPlot(value=frame, label=name))
    return *plots, h.blendshape_scores(path), fer.message()


@_ui(failed=_nothing_made(1, said="Not compared"))
def _identity(a, b):
    r = h.identity_distance(a, b)
    verdict = "same person" if r["same_person"] else "different people"
    return r, f"distance {r['distance']:.3f} (threshold {r['threshold']:g}): **{verdict}**"


def _evaluate_tab() -> None:
    with gr.Row():
        with gr.Column(scale=1):
            photo = gr.File(label="Photo to judge", type="filepath", elem_id="eval-photo")
            run = gr.Button("Judge the expression", variant="primary", elem_id="eval-run")
            status = gr.Markdown(elem_id="eval-status")
        with gr.Column(scale=2, min_width=RESULT_MIN_WIDTH):
            plots = [
                gr.BarPlot(
                    x="emotion",
                    y="probability",
                    y_lim=[0, 1],
                    sort=list(EMOTIONS),
                    label=name,
                    elem_id=f"eval-fer-{name}",
                )  # fmt: skip
                for name in JUDGE_NAMES
            ]
    scores = gr.Dataframe(
        headers=["blendshape", "score"], label="MediaPipe's 52 blendshape scores", elem_id="eval-blendshapes",
        interactive=False,
    )  # fmt: skip
    run.click(_judge, inputs=photo, outputs=[*plots, scores, status], api_name="judge")
    gr.Markdown("### Identity distance (dlib, same person below 0.6)")
    with gr.Row():
        a = gr.File(label="Photo A", type="filepath", elem_id="eval-id-a")
        b = gr.File(label="Photo B", type="filepath", elem_id="eval-id-b")
        with gr.Column():
            compare = gr.Button("Compare", elem_id="eval-id-run")
            verdict = gr.Markdown(elem_id="eval-id-verdict")
            detail = gr.JSON(label="Details")
    _run_button(compare, "identity", _blank(2), _identity, inputs=[a, b], outputs=[detail, verdict])


# ---------------------------------------------------------------------------------------------- augment
@_ui(failed=_nothing_made(4))
def _augment(zip_path, folder_files, targets, per_image, max_faces, progress=gr.Progress()):  # noqa: B008
    upload = folder_files if folder_files else zip_path
    if not upload:
        raise ParameterError("upload a zip of face images or a folder first")
    progress(0.05, desc="loading the editor and the judges")
    out = h.augment_upload(upload, targets=targets or [], per_image=int(per_image), max_faces=int(max_faces))
    return out.sheet, out.rows, out.report, out.archive, out.message


def _augment_tab() -> None:
    gr.Markdown(
        "A small `facecraft augment` run: each face is edited toward the chosen emotions (geometric editor), and "
        "a variant is kept only when the shipped FER judge ranks the emotion high, a second judge agrees, the "
        "person stays the same (identity distance < 0.6) and it is no near-duplicate. Larger runs: "
        "`facecraft augment DATASET --out OUT`."
    )
    with gr.Row():
        with gr.Column(scale=1):
            zip_file = gr.File(
                label="Zip of face images (loose, or one folder per emotion)", type="filepath", file_types=[".zip"],
                elem_id="augment-zip",
            )  # fmt: skip
            folder = gr.File(label="or a folder", file_count="directory", type="filepath", elem_id="augment-folder")
            targets = gr.CheckboxGroup(
                [e for e in EMOTIONS if e != "neutral"], value=["contempt", "disgust", "fear"],
                label="Target emotions", elem_id="augment-targets",
            )  # fmt: skip
            per_image = gr.Slider(1, 4, value=1, step=1, label="Variants per face and emotion")
            max_faces = gr.Slider(1, h.MAX_AUGMENT_FACES, value=16, step=1, label="Faces to try")
            run = gr.Button("Augment", variant="primary", elem_id="augment-run")
            status = gr.Markdown(elem_id="augment-status")
        with gr.Column(scale=2, min_width=RESULT_MIN_WIDTH):
            sheet = gr.Image(label="Contact sheet: source, kept variant", type="filepath", elem_id="augment-sheet")
            table = gr.Dataframe(
                headers=["target", "attempted", "accepted", "acceptance rate"], label="Per emotion",
                interactive=False, elem_id="augment-table",
            )  # fmt: skip
            download = gr.File(
                label="Download (ImageFolder, manifest.jsonl, report.json)",
                interactive=False,
                elem_id="augment-download",
                elem_classes=RESULT_FILES,
            )
            with gr.Accordion("Report", open=False):
                report = gr.JSON(label="report.json")
    _run_button(
        run, "augment", _blank(5), _augment, inputs=[zip_file, folder, targets, per_image, max_faces],
        outputs=[sheet, table, report, download, status], show_progress_on=status,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------- app
#: How often (seconds) Gradio's cache of the files shown is swept of copies older than :data:`h.JOB_HOLD_S`.
GRADIO_CACHE_SWEEP_S = 600


def build_studio(*, refine: h.RefineConfig | None = None) -> gr.Blocks:
    """The studio's :class:`gradio.Blocks` (not launched); models load on first use, not here.

    ``refine`` configures "refine with diffusion" (default: ``$FACECRAFT_REFINE_BASE`` / ``_ADAPTER``); without
    a base and an adapter its panel stays hidden.
    """
    if refine is not None:
        h.shared_models().refine = refine
    # Gradio keeps its own copy of every file a handler returns (/tmp/gradio): without a sweep it grew as the
    # studio's own result folders did (h.prune_results); its copies go after the hour a job's folder is held
    with gr.Blocks(title="facecraft studio", delete_cache=(GRADIO_CACHE_SWEEP_S, int(h.JOB_HOLD_S))) as demo:
        gr.Markdown("# facecraft studio\nEdit expressions in photos, animate speech, make a photo talk, judge faces.")
        with gr.Tabs():
            with gr.Tab("Edit", id="edit"):
                _edit_tab()
            with gr.Tab("Animate", id="animate"):
                _animate_tab()
            with gr.Tab("Talk", id="talk"):
                _talk_tab()
            with gr.Tab("Evaluate", id="evaluate"):
                _evaluate_tab()
            with gr.Tab("Augment", id="augment"):
                _augment_tab()
    return demo


def launch(
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    refine: h.RefineConfig | None = None,
    announce=None,
    **options,
) -> None:
    """Build and serve the studio (blocks until stopped); ``options`` go to :meth:`gradio.Blocks.launch`.

    ``announce(url)`` is told the address the studio answers on once it does: without ``port``, Gradio takes the
    first free one from 7860 on (the command line said 7860 while another program answered there).

    Raises
    ------
    ParameterError
        ``port`` is taken (or ``host`` is no address of this machine): Gradio's OSError went out as a traceback.
    """
    h.prune_results()  # what earlier runs left beyond the newest results
    demo = build_studio(refine=refine)
    demo.queue(default_concurrency_limit=1)
    options = {"js": SLIDER_BOX_JS, "css": STUDIO_CSS, **options}
    try:
        demo.launch(
            server_name=host, server_port=port, max_file_size=MAX_UPLOAD, show_error=True, inbrowser=False,
            prevent_thread_lock=True, **options,
        )  # fmt: skip
    except OSError as e:
        if "Cannot find empty port" not in str(e):
            raise
        where = f"port {port}" if port is not None else "any port Gradio tries (from 7860, or $GRADIO_SERVER_PORT, on)"
        raise ParameterError(
            f"cannot serve the studio on {host}, {where}: in use by another program (another studio?) or not an "
            "address of this machine; choose another --port, or leave it out for the first free one"
        ) from None
    if announce is not None:
        announce(demo.local_url or f"http://{host}:{demo.server_port}/")
    demo.block_thread()
