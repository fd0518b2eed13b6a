"""Fixtures shared by the synth tests: the sample photo, one editor, and its analysis (made once)."""

from __future__ import annotations

import pytest

from facecraft.eval.images import load_image
from facecraft.rigs import resolve_asset


@pytest.fixture(scope="session")
def astronaut():
    """skimage's astronaut: 512 x 512, one frontal smiling face (public domain)."""
    return load_image(resolve_asset("astronaut"))


@pytest.fixture(scope="session")
def editor():
    from facecraft.synth.editor import FaceEditor

    with FaceEditor() as e:
        yield e


@pytest.fixture(scope="session")
def astronaut_faces(editor, astronaut):
    return editor.analyze(astronaut, name="astronaut")
