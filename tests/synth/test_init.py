"""facecraft.synth's public API: every listed name resolves, and the heavy parts load only on use."""

import subprocess
import sys

import pytest

import facecraft.synth as synth


@pytest.mark.parametrize("name", synth.__all__)
def test_every_public_name_resolves(name):
    assert getattr(synth, name) is not None


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'edit_imag'"):
        synth.edit_imag  # noqa: B018


def test_edit_image_is_the_editors():
    from facecraft.synth.editor import edit_image

    assert synth.edit_image is edit_image


def test_import_does_not_load_diffusers_or_mediapipe():
    code = "import sys, facecraft.synth; print(sorted(m for m in ('diffusers', 'mediapipe') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
