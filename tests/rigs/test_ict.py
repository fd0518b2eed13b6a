"""ICT FaceKit style OBJ importer: tiny OBJ sets written here, plus one test on the real folder."""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path

import numpy as np
import pytest

from facecraft.rigs import ARKIT_NAMES, FileFormatError, MissingFileError, ict

NEUTRAL = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [2, 0, 0]], dtype=np.float32)


def _write_obj(path: Path, verts: np.ndarray, *, faces: bool = True, extra: str = "") -> Path:
    lines = ["# test mesh", "mtllib none.mtl"] + [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in verts]
    lines += ["vt 0 0", "vt 1 0", "vt 1 1", "vt 0 1", "vn 0 0 1", "usemtl M"]
    if faces:
        lines += ["f 1/1/1 2/2/1 3/3/1 4/4/1", "f 2/1 5/2 3/3"]  # one quad (v/vt/vn) and one triangle (v/vt)
    text = "\n".join(lines) + "\n" + extra
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    return path


def _shape(offsets: dict[int, tuple[float, float, float]]) -> np.ndarray:
    v = NEUTRAL.copy()
    for i, d in offsets.items():
        v[i] += d
    return v


@pytest.fixture
def objset(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("FACECRAFT_CACHE_DIR", str(tmp_path / "cache"))
    d = tmp_path / "FaceXModel"
    d.mkdir()
    _write_obj(d / "generic_neutral_mesh.obj.gz", NEUTRAL)
    _write_obj(d / "eyeBlink_L.obj.gz", _shape({2: (0, -0.5, 0)}), faces=False)
    _write_obj(d / "jawOpen.obj", _shape({0: (0, -1, 0), 1: (0, -1, 0)}))
    _write_obj(d / "browInnerUp_L.obj.gz", _shape({3: (0, 0.25, 0)}))
    _write_obj(d / "browInnerUp_R.obj.gz", _shape({3: (0, 0.5, 0), 4: (0, 0.1, 0)}))
    _write_obj(d / "PupilDilate_L.obj.gz", _shape({4: (1, 0, 0)}))
    _write_obj(d / "identity000.obj.gz", _shape({4: (0, 0, 3)}))
    (d / "notes.txt").write_text("not an obj")
    return d


def test_read_obj_triangulates_quads_and_handles_slash_forms(tmp_path):
    path = _write_obj(tmp_path / "m.obj", NEUTRAL, extra="f -1 -2 -3\n")
    verts, faces = ict.read_obj(path)
    np.testing.assert_allclose(verts, NEUTRAL)
    # triangles first (the 1-based "2 5 3" and the negative "-1 -2 -3"), then the quad split on its diagonal
    assert faces.tolist() == [[1, 4, 2], [4, 3, 2], [0, 1, 2], [0, 2, 3]]


def test_read_obj_materials_follow_each_polygon_into_its_triangles(tmp_path):
    path = tmp_path / "m.obj"
    path.write_text(
        "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 2 0 0\nf 1 2 5\nusemtl M_Face\nf 1 2 3 4\n"
        "usemtl M_Teeth\nf 2 5 3\nusemtl M_Face\nf 4 3 5\n"
    )
    verts, faces, materials, names = ict.read_obj_materials(path)
    assert names == ["M_Face", "M_Teeth"]
    # triangles first (no material, teeth, face), then the quad's two halves (face)
    assert faces.tolist() == [[0, 1, 4], [1, 4, 2], [3, 2, 4], [0, 1, 2], [0, 2, 3]]
    assert materials.tolist() == [-1, 1, 0, 0, 0]
    assert np.array_equal(ict.read_obj(path)[1], faces)


def test_rig_regions_from_ict_materials(objset):
    from facecraft.rigs.face_parts import TEETH_COLOR
    from facecraft.rigs.surfaces import SKIN_COLOR

    assert ict.load_ict_rig(objset, semantic_vertices={}).regions == ()  # material "M" is none of ICT's
    _write_obj(objset / "generic_neutral_mesh.obj.gz", NEUTRAL, faces=False,
               extra="usemtl M_Face\nf 1 2 3 4\nusemtl M_Teeth\nf 2 5 3\n")  # fmt: skip
    data = ict.load_obj_shape_set(objset)
    assert data.material_names == ["M", "M_Face", "M_Teeth"] and data.face_materials.tolist() == [2, 1, 1]
    cached = ict.load_obj_shape_set(objset)  # the cache keeps the materials
    assert cached.material_names == data.material_names
    assert np.array_equal(cached.face_materials, data.face_materials)
    rig = ict.load_ict_rig(objset, semantic_vertices={})
    assert [(r.name, r.triangles.tolist(), r.color) for r in rig.regions] == [
        ("skin", [1, 2], SKIN_COLOR), ("teeth", [0], TEETH_COLOR),
    ]  # fmt: skip


def test_read_obj_ignores_vertex_colours(tmp_path):
    path = tmp_path / "coloured.obj"
    path.write_text("v 1 2 3 0.5 0.5 0.5\nv 4 5 6 0.1 0.2 0.3\nv 7 8 9 1 1 1\nf 1 2 3\n")
    verts, faces = ict.read_obj(path)
    assert verts.tolist() == [[1, 2, 3], [4, 5, 6], [7, 8, 9]] and faces.tolist() == [[0, 1, 2]]


def test_default_folder_error_names_the_env_var(tmp_path, monkeypatch):
    monkeypatch.setenv("FACECRAFT_ICT_DIR", str(tmp_path / "elsewhere"))
    with pytest.raises(MissingFileError, match="elsewhere.*FACECRAFT_ICT_DIR"):
        ict.load_ict_rig()


def test_name_mapping():
    assert ict.ict_to_arkit_name("eyeBlink_L") == "eyeBlinkLeft"
    assert ict.ict_to_arkit_name("mouthSmile_R") == "mouthSmileRight"
    assert ict.ict_to_arkit_name("browInnerUp_R") == "browInnerUp"
    assert ict.ict_to_arkit_name("cheekPuff_L") == "cheekPuff"
    assert ict.ict_to_arkit_name("jawOpen") == "jawOpen"
    for stem in ("PupilDilate_L", "cheekRaiser_R", "identity042", "generic_neutral_mesh"):
        assert ict.ict_to_arkit_name(stem) is None


def test_rig_from_tiny_set(objset):
    rig = ict.load_ict_rig(objset, scale=1.0, semantic_vertices={"chin": 0, "nose_tip": 4})
    assert rig.shape_names == ["eyeBlinkLeft", "jawOpen", "browInnerUp"]  # Apple order, extras dropped
    assert rig.num_vertices == 5 and rig.faces.shape == (3, 3)
    np.testing.assert_allclose(rig.deltas[rig.shape_index("browInnerUp")][3].numpy(), [0, 0.75, 0], atol=1e-6)
    np.testing.assert_allclose(rig.deltas[rig.shape_index("browInnerUp")][4].numpy(), [0, 0.1, 0], atol=1e-6)
    np.testing.assert_allclose(rig.deltas[rig.shape_index("eyeBlink_L")][2].numpy(), [0, -0.5, 0], atol=1e-6)
    assert rig.point_names == ["chin", "nose_tip"]
    np.testing.assert_allclose(rig.neutral_points().numpy(), NEUTRAL[[0, 4]], atol=1e-6)
    metres = ict.load_ict_rig(objset, semantic_vertices={})
    np.testing.assert_allclose(metres.neutral.numpy(), NEUTRAL * 0.01, atol=1e-7)
    ids = ict.ict_identity_deltas(objset, scale=1.0)
    assert list(ids) == ["identity000"] and ids["identity000"][4].tolist() == [0, 0, 3]


def test_cache_is_written_reused_and_invalidated(objset, tmp_path):
    cache = tmp_path / "cache"
    first = ict.load_obj_shape_set(objset)
    files = list(cache.glob("objset-*.npz"))
    assert len(files) == 1
    # A reused cache gives the same data, even after the OBJs become unreadable for the parser...
    stamp = files[0].stat().st_mtime_ns
    second = ict.load_obj_shape_set(objset)
    assert second.names == first.names and np.array_equal(second.shapes, first.shapes)
    assert files[0].stat().st_mtime_ns == stamp
    # ...and a changed file (size and mtime) gives a new key and fresh values.
    _write_obj(objset / "jawOpen.obj", _shape({0: (0, -2, 0)}), extra="# changed\n")
    os.utime(objset / "jawOpen.obj", ns=(time.time_ns(), time.time_ns() + 10**9))
    third = ict.load_obj_shape_set(objset)
    assert len(list(cache.glob("objset-*.npz"))) == 2
    assert third.shapes[third.names.index("jawOpen")][0, 1] == pytest.approx(-2.0)
    no_cache = ict.load_obj_shape_set(objset, use_cache=False)
    assert np.array_equal(no_cache.shapes, third.shapes)


def test_missing_folder_and_neutral(tmp_path):
    with pytest.raises(MissingFileError, match="nowhere"):
        ict.load_ict_rig(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingFileError, match="generic_neutral_mesh"):
        ict.load_ict_rig(tmp_path / "empty", use_cache=False)
    with pytest.raises(MissingFileError, match="missing.obj"):
        ict.read_obj(tmp_path / "missing.obj")


def test_the_repository_root_of_ict_facekit_reads_its_facexmodel_folder(objset):
    # the repository's root holds README.md and FaceXModel/: "generic_neutral_mesh.obj not found" before
    root = objset.parent / "ICT-FaceKit"
    root.mkdir()
    objset.rename(root / "FaceXModel")
    (root / "README.md").write_text("ICT FaceKit")
    rig = ict.load_ict_rig(root, semantic_vertices={})
    assert rig.name == "ict:FaceXModel" and rig.neutral.shape == (len(NEUTRAL), 3)


def test_vertex_count_mismatch_names_file_and_counts(objset):
    _write_obj(objset / "mouthClose.obj.gz", NEUTRAL[:4], faces=False)
    with pytest.raises(FileFormatError, match=r"mouthClose\.obj\.gz: 4 vertices.*generic_neutral_mesh.*5"):
        ict.load_ict_rig(objset, use_cache=False)


@pytest.mark.parametrize(
    "content,match",
    [
        ("v 1 2 x\nv 0 0 0\n", "unparsable vertex"),
        ("# nothing here\n", "no vertex"),
        ("v 1 2 3\nv 1 2 3\nv 1 2 3\nf 1 2 q\n", "unparsable face"),
        ("v 1 2 3\nv 1 2 3\nv 1 2 3\nf 1 2 9\n", "face indices outside"),
    ],
)
def test_unparsable_obj(tmp_path, content, match):
    path = tmp_path / "bad.obj"
    path.write_text(content)
    with pytest.raises(FileFormatError, match=f"bad.obj.*{match}"):
        ict.read_obj(path)


def test_corrupt_gzip(objset):
    (objset / "jawOpen.obj").unlink()
    (objset / "jawOpen.obj.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(FileFormatError, match="jawOpen.obj.gz"):
        ict.load_ict_rig(objset, use_cache=False)


def test_real_ict_facekit(shared_dir, tmp_path, monkeypatch):
    folder = shared_dir / "assets" / "ict-facekit" / "FaceXModel"
    if not folder.is_dir():
        pytest.skip(f"ICT FaceKit not present at {folder}")
    monkeypatch.setenv("FACECRAFT_CACHE_DIR", str(tmp_path))
    rig = ict.load_ict_rig(folder)  # its load time is the benchmark's figure, not an assertion
    assert rig.num_vertices == 26719 and rig.num_shapes == 51
    assert rig.shape_names == [n for n in ARKIT_NAMES if n != "tongueOut"]
    w, h = rig.face_size()
    assert 0.15 < w < 0.4 and 0.2 < h < 0.5  # metres (the whole head)
    p = dict(zip(rig.point_names, rig.neutral_points().numpy(), strict=True))
    assert len(p) == 22
    for name in p:
        if name.endswith("_l"):
            assert p[name][0] > 0.004
            np.testing.assert_allclose(p[name] * [-1, 1, 1], p[name[:-2] + "_r"], atol=2e-4)
    blink = rig(rig.weights_from_dict({"eyeBlinkLeft": 1.0})).points.numpy()
    i_up, i_lo = rig.point_index("upper_lid_l"), rig.point_index("lower_lid_l")
    assert np.linalg.norm(blink[i_up] - blink[i_lo]) < 0.25 * np.linalg.norm(p["upper_lid_l"] - p["lower_lid_l"])
    face = ict.load_ict_rig(folder, face_only=True)
    assert face.num_vertices == ict.ICT_FACE_VERTICES and int(face.faces.max()) < ict.ICT_FACE_VERTICES
    assert face.point_names == rig.point_names


def test_bench_rig_vs_ict_needs_the_folder(tmp_path, monkeypatch):
    from facecraft.rigs.bench import bench_rig_vs_ict

    monkeypatch.setenv("FACECRAFT_ICT_DIR", str(tmp_path / "no-ict-here"))
    with pytest.raises(MissingFileError, match="no-ict-here.*FACECRAFT_ICT_DIR"):
        bench_rig_vs_ict(tmp_path / "out")


def test_bench_rig_vs_ict_on_real_data(shared_dir, tmp_path):
    from facecraft.rigs.bench import bench_rig_vs_ict

    folder = shared_dir / "assets" / "ict-facekit" / "FaceXModel"
    if not folder.is_dir():
        pytest.skip(f"ICT FaceKit not present at {folder}")
    result = bench_rig_vs_ict(tmp_path, ict_dir=folder)
    assert result["num_points"] >= 12 and result["num_shapes"] == 51
    assert set(result["shapes"]) == {n for n in ARKIT_NAMES if n != "tongueOut"}
    assert result["median_cosine"] >= 0.7
    assert (tmp_path / "rig_vs_ict.png").stat().st_size > 10_000
    # Mirrored pairs score alike; the jaw shapes (a rotation and a translation) agree closely with ICT.
    assert result["shapes"]["eyeBlinkLeft"]["cosine"] == pytest.approx(result["shapes"]["eyeBlinkRight"]["cosine"])
    assert result["shapes"]["jawOpen"]["cosine"] > 0.9 and result["shapes"]["jawLeft"]["cosine"] > 0.9


def test_real_ict_lips_gums_and_tongue(shared_dir, tmp_path, monkeypatch):
    """ICT draws its lips with the face's material and its gums and tongue as one mesh: the rig names its lips
    (between the mouth landmarks' outer line) and tells the tongue (goes with the jaw, away from the teeth) from
    the gums, as the default rig's surfaces, so an open mouth is not skin-coloured lips around one pink."""
    folder = shared_dir / "assets" / "ict-facekit" / "FaceXModel"
    if not folder.is_dir():
        pytest.skip(f"ICT FaceKit not present at {folder}")
    monkeypatch.setenv("FACECRAFT_CACHE_DIR", str(tmp_path))
    rig = ict.load_ict_rig(folder)
    regions = {r.name: r for r in rig.regions}
    faces = rig.faces.numpy()
    v = rig.neutral.numpy()
    lips = np.unique(faces[regions["lips"].triangles])
    assert {0, 5518, 5533, 5517, 5708, 6213} <= set(lips.tolist())  # lip centres, inner lips and both corners
    outline = v[list(ict.ICT_LIP_OUTLINE)]
    assert (v[lips, 1] > outline[:, 1].min() - 1e-3).all() and (v[lips, 1] < outline[:, 1].max() + 1e-3).all()
    assert not {4857, 966} & set(lips.tolist())  # the nose tip and the chin stay skin
    jaw = np.linalg.norm(rig.deltas[rig.shape_index("jawOpen")].numpy(), axis=1)
    tongue, gums = np.unique(faces[regions["tongue"].triangles]), np.unique(faces[regions["gums"].triangles])
    assert len(tongue) > 500 and len(gums) > 1000
    assert (jaw[tongue] > 0.005).all()  # the tongue goes with the jaw (metres) ...
    assert (jaw[gums] < 1e-6).sum() > 1000 and (jaw[gums] > 0.005).sum() > 500  # ... the upper and lower gums
    teeth = np.unique(faces[regions["teeth"].triangles])
    lower_teeth = v[teeth[jaw[teeth] > 0.005]]
    nearest = np.linalg.norm(v[tongue][:, None] - lower_teeth[None, ::7], axis=2).min(1)
    assert np.median(nearest) > 0.005  # the tongue's body lies well inside the lower arch


def test_real_ict_upper_lip_has_no_notch_by_the_corners(shared_dir, tmp_path, monkeypatch):
    """From each mouth corner to the upper lip's peak beside it the lips' outline bulges out, as lips do: it
    never dips inside the straight line between the two. Along the mesh's shortest edge path it ran under that
    line and climbed to the peak at its end, a notch 0.8 mm deep that showed as a stair step in the upper lip
    of an open mouth."""
    folder = shared_dir / "assets" / "ict-facekit" / "FaceXModel"
    if not folder.is_dir():
        pytest.skip(f"ICT FaceKit not present at {folder}")
    monkeypatch.setenv("FACECRAFT_CACHE_DIR", str(tmp_path))
    data = ict.load_obj_shape_set(folder)
    v = data.neutral.astype(np.float64)  # centimetres
    loop = ict._lip_outline(v, data.faces, data.face_materials == data.material_names.index("M_Face"))
    for corner, peak in ((5708, 5695), (6213, 6200)):
        i, j = loop.index(corner), loop.index(peak)
        section = loop[min(i, j) : max(i, j) + 1]
        assert 0 < len(section) - 2 < 12  # the path between them, not around the lips
        chord = v[peak, :2] - v[corner, :2]
        normal = np.array([-chord[1], chord[0]]) / np.linalg.norm(chord)
        out = (v[section, :2] - v[corner, :2]) @ normal * np.sign(normal[1])  # > 0: above the line, outside
        assert out.min() > -0.02, (corner, section, out.round(3))  # 0.2 mm
