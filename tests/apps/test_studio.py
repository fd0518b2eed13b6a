"""The studio's layout and wiring (no browser): tabs, named API endpoints, errors shown, not raised."""

from __future__ import annotations

import gradio as gr
import pytest

from facecraft.apps import studio
from facecraft.apps.cli import build_parser
from facecraft.rigs import ARKIT_NAMES, AU_NAMES, NoFaceError


@pytest.fixture(scope="module")
def demo():
    return studio.build_studio()


def test_every_event_has_an_api_name(demo):
    names = {fn.api_name for fn in demo.fns.values() if fn.api_name}
    assert {"analyze", "analyze_sample", "choose_face", "edit", "reset", "animate", "judge", "identity"} <= names
    unnamed = [fn.name for fn in demo.fns.values() if not fn.api_name and fn.name != "_edit"]
    assert unnamed == []  # only the edit chained after "reset" reuses the edit endpoint's function


def test_tabs_and_one_slider_per_au_and_arkit_channel(demo):
    tabs = [b.label for b in demo.blocks.values() if isinstance(b, gr.Tab)]
    assert tabs == ["Edit", "Animate", "Evaluate", "Augment"]
    ids = {b.elem_id for b in demo.blocks.values() if isinstance(b, gr.Slider)}
    assert {f"slider-{n}" for n in (*AU_NAMES, *ARKIT_NAMES)} <= ids
    edit = next(fn for fn in demo.fns.values() if fn.api_name == "edit")
    assert len(edit.inputs) == 5 + len(AU_NAMES) + len(ARKIT_NAMES)


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
    args = build_parser().parse_args(["app", "--port", "7999"])
    assert args.command == "app" and args.port == 7999 and args.host == "127.0.0.1"
