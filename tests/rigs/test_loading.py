import numpy as np
import pytest

from facecraft.rigs import BlendshapeRig, MissingFileError, ParameterError, load_rig
from facecraft.rigs.exchange import write_rig_glb


def test_default_by_name_and_none():
    rig = load_rig("default")
    assert rig.name == "facecraft-default" and rig.num_shapes == 52
    assert load_rig(None).num_vertices == rig.num_vertices
    assert load_rig(rig) is rig


def test_the_files_facecraft_writes_load_back(tmp_path, tiny_rig):
    tiny_rig.save(tmp_path / "tiny.safetensors")
    back = load_rig(tmp_path / "tiny.safetensors")
    assert isinstance(back, BlendshapeRig) and back.shape_names == tiny_rig.shape_names
    assert np.allclose(back.deltas, tiny_rig.deltas)
    write_rig_glb(tiny_rig, tmp_path / "tiny.glb")
    glb = load_rig(str(tmp_path / "tiny.glb"))
    assert set(glb.shape_names) == set(tiny_rig.shape_names)


def test_bad_specs_say_what_is_accepted(tmp_path):
    with pytest.raises(MissingFileError, match=r"rig not found.*'default'.*\.safetensors.*ICT FaceKit folder"):
        load_rig(tmp_path / "missing.glb")
    with pytest.raises(MissingFileError, match="not a rig name"):
        load_rig("defualt")
    (tmp_path / "take.csv").write_text("x")
    with pytest.raises(ParameterError, match=r"unsupported file type '\.csv'"):
        load_rig(tmp_path / "take.csv")
    with pytest.raises(ParameterError, match="got a int"):
        load_rig(3)


def test_a_folder_that_is_not_ict_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises((MissingFileError, ParameterError)) as err:
        load_rig(tmp_path / "empty")
    assert "empty" in str(err.value)
