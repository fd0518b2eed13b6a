"""``facecraft edit``: change the expression of the faces in a photo, or in every photo of a folder.

A folder run writes one output per input under the output folder (same relative name), skips inputs
whose output already exists (so a stopped run resumes), reports each skipped or failed file with its
reason and goes on; ``report.json`` lists what happened to each file, ``edit-settings.json`` the controls the
folder's edits were made with (a rerun with other controls stops, unless ``--overwrite`` redoes every photo).

``--refine`` follows the geometric edit of one face (``--face``, default the largest) with the AU-conditioned
diffusion refine (:mod:`facecraft.synth.refine`); its models come from ``--base`` / ``--adapter`` or the
environment (:mod:`facecraft.synth.adapter_cli`), and a missing one stops the run before any photo is read.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
from pathlib import Path

from facecraft.rigs.emotion_space import EXPRESSION_ARG_HELP, is_free_text
from facecraft.rigs.expression_text import describe_text
from facecraft.rigs.paths import atomic_output, say_ending_added, with_ending

from .adapter_cli import add_refine_arguments
from .editor import EDIT_MAX_FACES

log = logging.getLogger(__name__)

#: The endings an edit is written as (eval.images reads more: .gif, .ppm, .pgm).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".jfif", ".bmp", ".webp", ".tif", ".tiff")
REPORT_NAME = "report.json"
SETTINGS_NAME = "edit-settings.json"


def _controls(args: argparse.Namespace):
    from .controls import EditControls

    return EditControls.from_args(
        emotion=args.emotion,
        text=args.text,
        au=args.au,
        arkit=args.arkit,
        absolute=args.absolute,
        keep_glasses=getattr(args, "keep_glasses", False),
    )


def _save(image, path: Path, *, like=None, changed=None, alpha=None) -> None:
    """Write atomically (a hidden part file renamed when complete), keeping ``like``'s photo traits (a cut-out's
    transparency: the edit's ``alpha``, moved with the face)."""
    from facecraft.eval.images import save_image

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path, "part", pid=False) as tmp:
        save_image(image, tmp, like=like, changed=changed, alpha=alpha, name=str(path))


def _sheet(pairs: list[tuple[str, object, object]], path: Path) -> None:
    """Before/after tiles cropped around the first edited face of each photo."""
    from facecraft.rigs.contact_sheet import contact_sheet

    from .editor import face_crop

    images, labels = [], []
    for name, before, result in pairs:
        box = result.faces[0].box
        images += [face_crop(before, box), face_crop(result.image, box)]
        labels += [f"{name}: before", "after"]
    _save(contact_sheet(images, labels, cols=min(4, len(images)), tile_size=(256, 256)), path)


def _edit_one(editor, path: Path, out: Path, controls, face: int | None, refine=None):
    """Edit one photo and save it; ``refine`` = ``(pipeline, args)`` refines the edited face with diffusion."""
    from facecraft.eval.images import load_image_with_traits

    image, traits = load_image_with_traits(path)
    if refine is None:
        result = editor.edit(image, controls, face=face, name=str(path), alpha=traits.alpha)
    else:
        from dataclasses import replace

        from .adapter_cli import run_refine

        pipe, args = refine
        faces = editor.analyze(image, name=str(path))
        refined = run_refine(
            pipe, args, image, controls, faces=faces, face=face or 0, name=str(path), alpha=traits.alpha
        )
        result = replace(refined.edit, image=refined.images[0])
    _save(result.image, out, like=traits, changed=result.mask, alpha=result.alpha)
    return image, result


def _face_limit_reached(args: argparse.Namespace, result) -> bool:
    """Whether an edit of every face stopped at ``--max-faces`` (the photo may show more)."""
    return args.face is None and len(result.faces) >= args.max_faces


def _refine_setup(args: argparse.Namespace, editor):
    """``(pipeline, args)`` for ``--refine`` (raises naming a missing model before any work), else None."""
    if not args.refine:
        return None
    from .adapter_cli import refine_pipeline

    return refine_pipeline(args, editor=editor), args


def _cmd_edit(args: argparse.Namespace) -> int:
    from facecraft.rigs.errors import FacecraftError, MissingFileError, ParameterError
    from facecraft.rigs.run_settings import save_run_settings

    from .editor import FaceEditor

    controls = _controls(args)  # bad controls fail before any work
    for words in (args.text, args.emotion):
        if is_free_text(words):
            print(f"text {words!r} read as {describe_text(words)}")
    src, out = Path(args.input), Path(args.output)
    if not src.exists():
        raise MissingFileError(f"input not found: {src}")
    if src.is_file():
        if out.is_dir():
            raise ParameterError(f"output {out} is a folder: give an image file name for one photo's edit")
        out = edit_output(out, src)
        say_ending_added("-o", args.output, out, "edit")
        if out.suffix.lower() not in IMAGE_SUFFIXES:
            raise ParameterError(f"output {out}: expected an image file ({', '.join(IMAGE_SUFFIXES)})")
        _not_the_input(out, src, "output", "give another file name for the edit")
        sheet = out.with_name(out.stem + "_sheet.png")
        if args.sheet:  # -o x.png for the photo x_sheet.png wrote the sheet over the photo
            advice = "give -o another name (the sheet is written beside it as NAME_sheet.png)"
            _not_the_input(sheet, src, "contact sheet", advice)
        with FaceEditor(max_faces=args.max_faces) as editor:
            refine = _refine_setup(args, editor)
            image, result = _edit_one(editor, src, out, controls, args.face, refine)
        for f in result.faces:
            print(f"face {f.index}: {_summary(f)}")
            if f.glasses_held is not None:
                held = "glasses frame held still" if f.glasses_held else "no glasses frame found for sure: not held"
                print(f"face {f.index}: {held}")
        if _face_limit_reached(args, result):
            print(f"note: {len(result.faces)} faces edited, the --max-faces limit: the photo may show more")
        print(f"edited {src} -> {out} ({result.edit_ms:.0f} ms after analysis)")
        if refine is not None:
            print(f"face {result.faces[0].index} refined with diffusion (strength {args.strength}, {args.steps} steps)")
        if args.sheet:
            _sheet([(src.name, image, result)], sheet)
            print(f"contact sheet -> {sheet}")
        return 0

    from tqdm import tqdm

    files = _folder_inputs(src, out)
    settings = _settings(args)
    earlier = _earlier_report(out, settings, overwrite=args.overwrite)
    report: dict[str, dict] = {}
    pairs = []
    save_run_settings(out / SETTINGS_NAME, settings)
    try:
        with FaceEditor(max_faces=args.max_faces) as editor:
            refine = _refine_setup(args, editor)
            targets = _folder_targets(src, out, files)
            # the contact sheet was written over the edit of a photo named sheet.png, reported as edited
            sheet = _untaken_png([out / "sheet.png"], out / "sheet", set(targets.values()))
            for path in tqdm(files, desc="edit", unit="photo"):
                rel, target = path.relative_to(src), targets[path]
                if target.exists() and not args.overwrite:
                    done = earlier.get(str(rel), {})  # an earlier run's output and face count are kept
                    report[str(rel)] = {**done, "status": "exists"} if "output" in done else {"status": "exists"}
                    continue
                try:
                    image, result = _edit_one(editor, path, target, controls, args.face, refine)
                except FacecraftError as e:  # one bad photo never stops the rest
                    report[str(rel)] = {"status": "skipped", "reason": str(e)}
                    log.warning("skipped %s: %s", path, e)
                    continue
                except Exception as e:  # noqa: BLE001 - an unforeseen failure is reported, and the rest done
                    report[str(rel)] = {"status": "skipped", "reason": f"{path}: failed: {type(e).__name__}: {e}"}
                    log.warning("failed %s", path, exc_info=True)
                    continue
                report[str(rel)] = {"status": "edited", "output": str(target), "faces": len(result.faces)}
                if args.keep_glasses:  # which faces' frames were held (a frame not found for sure is left to the warp)
                    report[str(rel)]["glasses_held"] = [f.index for f in result.faces if f.glasses_held]
                if _face_limit_reached(args, result):
                    report[str(rel)]["note"] = "the --max-faces limit was reached: the photo may show more faces"
                if args.sheet and len(pairs) < 16:
                    pairs.append((path.name, image, result))
    finally:  # what finished is reported even when the run stops; photos it did not reach keep an earlier entry
        unreached = sorted({str(f.relative_to(src)) for f in files} - set(report))
        kept = {rel: earlier[rel] for rel in unreached if rel in earlier}
        (out / REPORT_NAME).write_text(json.dumps({**report, **kept}, indent=2))
    counts = {s: sum(r["status"] == s for r in report.values()) for s in ("edited", "exists", "skipped")}
    print(f"{counts['edited']} edited, {counts['exists']} already done, {counts['skipped']} skipped -> {out}")
    for rel, r in report.items():
        if r["status"] == "skipped":
            print(f"  skipped {rel}: {r['reason']}")
    if args.sheet and pairs:
        _sheet(pairs, sheet)
        print(f"contact sheet -> {sheet}")
    return 0 if counts["skipped"] == 0 else 1


def edit_output(out: str | Path, src: str | Path) -> Path:
    """The file one photo's edit is written to, as ``-o`` names it: ``out`` as given, or, where it has no ending,
    ``out`` in the input photo's own format (``-o smiling`` for ``me.jpg`` writes ``smiling.jpg``; a photo in a format
    not written, or without an ending, as a PNG, as :func:`_folder_targets` names a folder's)."""
    ending = Path(src).suffix
    return with_ending(out, ending if ending.lower() in IMAGE_SUFFIXES else ".png")


def _not_the_input(path: Path, src: Path, what: str, advice: str) -> None:
    """Refuse to write ``path`` (the edit, its sheet) when it is the input photo ``src`` under any name: the photo
    was replaced, and its original gone."""
    from facecraft.rigs.errors import ParameterError

    if path.exists() and path.samefile(src):
        raise ParameterError(f"{what} {path} is the input photo: {advice}")


def _folder_inputs(src: Path, out: Path) -> list[Path]:
    """The photos of folder ``src`` to edit into folder ``out``; never the outputs of an earlier run."""
    from facecraft.eval.images import list_image_files
    from facecraft.rigs.errors import ParameterError

    if out.exists() and not out.is_dir():
        raise ParameterError(f"output {out} is a file: give a folder for a folder of photos")
    if not out.exists() and out.suffix.lower() in IMAGE_SUFFIXES:  # "-o single.jpg" made a folder of that name
        raise ParameterError(f"output {out} names an image: give a folder for the edits of a folder of photos")
    src_abs, out_abs = src.resolve(), out.resolve()
    if out_abs == src_abs:
        raise ParameterError(f"output folder {out} is the input folder: give another folder for the edits")
    files = list_image_files(src, recursive=True, unnamed=True)  # an IMG_0001 without an ending is a photo too
    if src_abs in out_abs.parents:  # the output folder inside the input folder: its photos are edits
        files = [f for f in files if out_abs not in f.resolve().parents]
    return files


def _folder_targets(src: Path, out: Path, files: list[Path]) -> dict[Path, Path]:
    """Each photo's output: its relative name under ``out``; one in a format not written (.gif, .ppm, .pgm) or
    without an ending as a PNG, ``a.png``, or ``a.gif.png`` where another photo has that output (a.gif's edit was
    written as a.png and a.png's own was never made, reported as done); ``a.2.png`` for a photo ``a`` without an
    ending beside an ``a.png``."""
    targets = {f: out / f.relative_to(src) for f in files if f.suffix.lower() in IMAGE_SUFFIXES}
    taken = set(targets.values())
    for f in files:
        if f not in targets:
            png = (out / f.relative_to(src)).with_suffix(".png")
            targets[f] = _untaken_png([png, png.with_name(f"{f.name}.png")], out / f.relative_to(src), taken)
            taken.add(targets[f])
    return targets


def _untaken_png(first: list[Path], base: Path, taken: set[Path]) -> Path:
    """The first of ``first``, then of ``<base>.2.png``, ``<base>.3.png`` ..., that is not in ``taken``."""
    more = (base.with_name(f"{base.name}.{k}.png") for k in itertools.count(2))
    return next(p for p in itertools.chain(first, more) if p not in taken)


def _settings(args: argparse.Namespace) -> dict:
    """The controls a folder's edits are made with, as given (what a resumed run must repeat)."""
    keys = ("emotion", "text", "au", "arkit", "absolute", "face", "refine")
    settings = {k: getattr(args, k, None) for k in keys}
    if getattr(args, "keep_glasses", False):  # only when asked: folders edited before the option resume as they were
        settings["keep_glasses"] = True
    return settings


def _earlier_report(out: Path, settings: dict, *, overwrite: bool) -> dict[str, dict]:
    """The report of an earlier run into ``out``; a run with other controls stops (its edits would be mixed
    with this one's) unless ``overwrite`` redoes every photo."""
    from facecraft.rigs.run_settings import check_run_settings

    check_run_settings(out / SETTINGS_NAME, settings, overwrite=overwrite, made="edits")
    try:
        report = json.loads((out / REPORT_NAME).read_text())
    except (OSError, ValueError):
        return {}
    return report if isinstance(report, dict) else {}


def _summary(edit, top: int = 6) -> str:
    """The channels an edit moved most, ``name before->after``."""
    import numpy as np

    from facecraft.rigs import ARKIT_NAMES

    change = np.abs(edit.weights_after - edit.weights_before)
    order = [i for i in np.argsort(-change)[:top] if change[i] > 0.01]
    moved = ", ".join(f"{ARKIT_NAMES[i]} {edit.weights_before[i]:.2f}->{edit.weights_after[i]:.2f}" for i in order)
    return moved or "nothing to change"


#: ``calibrate-editor`` options passed on to :class:`~facecraft.synth.calibration.EditorCalibration`.
_CALIBRATION_FLAGS = ("ridge", "max_gain", "cross", "raise_floor", "removal_max")


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from .calibration import CALIBRATION_FILE, calibrate

    options = {k: getattr(args, k) for k in _CALIBRATION_FLAGS if getattr(args, k) is not None}
    out = Path(args.out) if args.out else CALIBRATION_FILE
    cal = calibrate(out=out, frll=args.frll, measurements=args.measurements, limit=args.limit, **options)
    print(f"editor calibration from {len(cal.meta['photos'])} photos -> {out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "edit",
        help="change the expression of the faces in a photo (or a folder of photos)",
        description="Edit by an emotion, a few words, FACS AUs or ARKit weights (any mix). Relative to the "
        "face's current expression unless --absolute.",
    )
    p.add_argument("input", help="a photo or a folder of photos")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="output photo (or folder, for a folder input); a name without an ending takes the input photo's format",
    )
    p.add_argument("--emotion", help=EXPRESSION_ARG_HELP)
    p.add_argument(
        "--text",
        help="a few words, e.g. 'a shy smile', 'eyes closed, smiling', 'a wink with the left eye' (the person's own "
        "left), 'no smile, just raised eyebrows'",
    )
    p.add_argument(
        "--au", nargs="+", action="extend", metavar="AU=V", help="FACS Action Units, e.g. AU12=0.6 AU6=0.4 AU14R=0.5"
    )
    p.add_argument(
        "--arkit",
        nargs="+",
        action="extend",
        metavar="NAME=V",
        help="ARKit-52 weights, e.g. jawOpen=0.3 eyeBlinkLeft=1",
    )
    p.add_argument("--face", type=int, help="edit only this face (0 = the largest); default all")
    p.add_argument(
        "--max-faces",
        type=int,
        default=EDIT_MAX_FACES,
        help=f"most faces found and edited in a photo (default {EDIT_MAX_FACES}; the largest first)",
    )
    p.add_argument("--absolute", action="store_true", help="set the target outright instead of editing the face")
    p.add_argument(
        "--keep-glasses",
        action="store_true",
        help="keep a glasses frame straight (the frame stays; the brows move behind the rims)",
    )
    p.add_argument("--sheet", action="store_true", help="also write a before/after contact sheet")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="folder mode: redo outputs that already exist (needed to rerun a folder with other controls)",
    )
    p.add_argument(
        "--refine",
        action="store_true",
        help="refine the edited face (--face, default the largest) with the AU diffusion adapter; models from "
        "--base/--adapter or $FACECRAFT_REFINE_BASE/$FACECRAFT_REFINE_ADAPTER (see `facecraft adapter`)",
    )
    add_refine_arguments(p.add_argument_group("refine (with --refine)"))
    p.set_defaults(func=_cmd_edit)

    c = sub.add_parser(
        "calibrate-editor",
        help="measure how the rig's shapes read to MediaPipe and write the editor's calibration",
        description="Edit the calibration photos (FRLL, people at even positions) by each rig channel, "
        "re-analyse, fit the response and write the calibration JSON (default: the one shipped with facecraft).",
    )
    c.add_argument("--out", help="calibration JSON to write (default: the package's editor_calibration.json)")
    c.add_argument("--frll", help="the faces-frll folder (default: the shared data folder's)")
    c.add_argument("--measurements", help="raw measurements .npz: reused when it exists, written otherwise")
    c.add_argument("--limit", type=int, help="use only the first N calibration photos")
    c.add_argument("--ridge", type=float, help="pull toward the uncalibrated change")
    c.add_argument("--max-gain", dest="max_gain", type=float, help="largest gain of a channel over its request")
    c.add_argument("--cross", type=float, help="largest cross-talk correction of a channel")
    c.add_argument(
        "--raise-floor",
        dest="raise_floor",
        type=float,
        help="share (0..1) of its calibrated change a channel the request raises moves at least",
    )
    c.add_argument(
        "--removal-max",
        dest="removal_max",
        type=float,
        help="most rig units a mouth channel may fall to undo a strong reading",
    )
    c.set_defaults(func=_cmd_calibrate)
