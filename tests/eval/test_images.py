"""Image loading: every layout arrives as RGB uint8, and bad files fail with errors that name them."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from PIL import Image

from facecraft.eval.images import (
    JPEG_QUALITY,
    EmptyFolderError,
    PhotoTraits,
    iter_image_files,
    list_image_files,
    load_image,
    load_image_with_traits,
    save_image,
    valid_image,
)
from facecraft.rigs import resolve_asset
from facecraft.rigs.errors import FileFormatError, MissingFileError, ParameterError


def test_astronaut_loads_as_rgb_uint8():
    img = load_image(resolve_asset("astronaut"))
    assert img.shape == (512, 512, 3) and img.dtype == np.uint8
    ref = np.asarray(Image.open(resolve_asset("astronaut")).convert("RGB"))
    np.testing.assert_array_equal(img, ref)


def test_grey_and_rgba_are_expanded(tmp_path):
    grey = np.arange(64, dtype=np.uint8).reshape(8, 8) * 3
    Image.fromarray(grey).save(tmp_path / "g.png")
    out = load_image(tmp_path / "g.png")
    assert out.shape == (8, 8, 3)
    np.testing.assert_array_equal(out[..., 0], grey)
    np.testing.assert_array_equal(out[..., 2], grey)
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[..., 0] = 200
    rgba[:2, :, 3] = 255  # top half opaque red, bottom half fully transparent -> white
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    out = load_image(tmp_path / "a.png")
    np.testing.assert_array_equal(out[0, 0], [200, 0, 0])
    np.testing.assert_array_equal(out[3, 3], [255, 255, 255])


def test_exif_orientation_is_applied(tmp_path):
    arr = np.zeros((10, 20, 3), dtype=np.uint8)
    arr[:, :10] = 255  # left half white
    im = Image.fromarray(arr)
    exif = im.getexif()
    exif[0x0112] = 6  # stored sideways: display rotated 90 degrees clockwise
    im.save(tmp_path / "r.jpg", exif=exif, quality=95)
    out = load_image(tmp_path / "r.jpg")
    assert out.shape == (20, 10, 3)
    assert out[:10].mean() > 200 and out[10:].mean() < 50  # the white half is now on top


def test_corrupt_and_missing_files(tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    with pytest.raises(FileFormatError, match="broken.jpg"):
        load_image(bad)
    txt = tmp_path / "notes.png"
    txt.write_text("hello")
    with pytest.raises(FileFormatError, match="notes.png"):
        load_image(txt)
    with pytest.raises(MissingFileError, match="nowhere.png"):
        load_image(tmp_path / "nowhere.png")
    with pytest.raises(MissingFileError, match="folder"):
        load_image(tmp_path)


def test_valid_image_layouts_and_errors():
    assert valid_image(np.zeros((5, 6))).shape == (5, 6, 3)
    assert valid_image(np.zeros((5, 6, 4), dtype=np.uint8)).shape == (5, 6, 3)
    np.testing.assert_array_equal(valid_image(np.full((2, 2, 3), 0.5)), np.full((2, 2, 3), 128, dtype=np.uint8))
    np.testing.assert_array_equal(valid_image(np.eye(2, dtype=bool))[..., 1], [[255, 0], [0, 255]])
    with pytest.raises(ParameterError, match=r"\(3, 3, 5\)"):
        valid_image(np.zeros((3, 3, 5)))
    with pytest.raises(ParameterError, match="range"):
        valid_image(np.full((2, 2, 3), 2.0))
    with pytest.raises(ParameterError, match="range"):
        valid_image(np.full((2, 2, 3), 300, dtype=np.int32))
    with pytest.raises(ParameterError, match="NaN"):
        valid_image(np.full((2, 2, 3), np.nan))
    with pytest.raises(ParameterError, match="photo"):
        valid_image(np.zeros((0, 4, 3), dtype=np.uint8), name="photo")


def test_folder_listing(tmp_path):
    with pytest.raises(EmptyFolderError, match="no image files"):
        list_image_files(tmp_path)
    with pytest.raises(EmptyFolderError):
        iter_image_files(tmp_path)  # raised at the call, not at the first next()
    (tmp_path / "b.PNG").write_bytes(b"x")
    (tmp_path / "a.jpg").write_bytes(b"x")
    (tmp_path / "readme.txt").write_text("x")
    (tmp_path / ".hidden.png").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.png").write_bytes(b"x")
    (tmp_path / ".thumbnails").mkdir()  # hidden folders hold no photos of the user's
    (tmp_path / ".thumbnails" / "d.png").write_bytes(b"x")
    assert [p.name for p in list_image_files(tmp_path)] == ["a.jpg", "b.PNG"]
    assert [p.name for p in iter_image_files(tmp_path, recursive=True)] == ["a.jpg", "b.PNG", "c.png"]
    with pytest.raises(MissingFileError):
        list_image_files(tmp_path / "absent")
    with pytest.raises(MissingFileError, match="got a file"):
        list_image_files(tmp_path / "a.jpg")


def test_folder_listing_follows_symlinked_folders_and_finds_photos_without_an_ending(tmp_path, caplog):
    # pathlib's rglob passed over a symlinked subfolder, and a photo without an ending was never listed, both
    # without a word
    from PIL import Image

    root, elsewhere = tmp_path / "photos", tmp_path / "elsewhere"
    (root / "sub").mkdir(parents=True)
    elsewhere.mkdir()
    Image.new("RGB", (8, 8)).save(root / "a.png")
    Image.new("RGB", (8, 8)).save(elsewhere / "b.png")
    Image.new("RGB", (8, 8)).save(root / "IMG_0001", format="JPEG")
    (root / "README").write_text("not a photo\n")
    (root / "trip").symlink_to(elsewhere, target_is_directory=True)
    (root / "sub" / "up").symlink_to(root, target_is_directory=True)  # a loop: photos/sub/up/sub/up/...
    (root / "gone").symlink_to(tmp_path / "absent", target_is_directory=True)
    with caplog.at_level("WARNING", logger="facecraft.eval.images"):
        listed = [str(p.relative_to(root)) for p in list_image_files(root, recursive=True)]
    assert listed == ["a.png", "trip/b.png"]
    assert any("sub/up" in r.message and "not followed" in r.message for r in caplog.records)
    unnamed = [str(p.relative_to(root)) for p in list_image_files(root, recursive=True, unnamed=True)]
    assert unnamed == ["IMG_0001", "a.png", "trip/b.png"]  # README is no image
    assert [p.name for p in list_image_files(root, unnamed=True)] == ["IMG_0001", "a.png"]


def test_jfif_photos_are_listed_and_files_without_an_ending_are_counted(tmp_path, caplog):
    # Windows saves a browser's JPEG as .jfif: such a folder was "no image files"; files without an ending were
    # passed over without a word
    from PIL import Image

    Image.fromarray(np.full((8, 8, 3), 90, np.uint8)).save(tmp_path / "face.jfif")
    assert [p.name for p in list_image_files(tmp_path)] == ["face.jfif"]
    assert load_image(tmp_path / "face.jfif").shape == (8, 8, 3)
    Image.new("RGB", (8, 8)).save(tmp_path / "IMG_0001", format="JPEG")
    (tmp_path / "notes").write_text("x")
    with caplog.at_level("WARNING", logger="facecraft.eval.images"):
        assert [p.name for p in list_image_files(tmp_path)] == ["face.jfif"]  # not read without unnamed=True
    assert "2 file(s) without a name ending passed over (not read), e.g. IMG_0001" in caplog.text
    (tmp_path / "face.jfif").unlink()
    with pytest.raises(EmptyFolderError, match=r"\.jfif.*; 2 file\(s\) without a name ending passed over"):
        list_image_files(tmp_path)


def test_a_jfif_edit_is_written_as_a_jpeg_is(tmp_path):
    smooth = np.tile(np.linspace(0, 255, 64, dtype=np.uint8)[None, :, None], (64, 1, 3))
    save_image(smooth, tmp_path / "q.jpg")
    save_image(smooth, tmp_path / "q.jfif")  # was Pillow's default quality 75, 4:2:0
    assert (tmp_path / "q.jfif").read_bytes() == (tmp_path / "q.jpg").read_bytes()


@functools.cache  # once: a new profile carries the clock's time, and two made a second apart differ
def _srgb_profile() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def test_photo_traits_are_read_upright(tmp_path):
    rgba = np.full((6, 10, 4), 120, np.uint8)
    rgba[..., 3] = 255
    rgba[:, :5, 3] = 0  # left half transparent
    im = Image.fromarray(rgba, "RGBA")
    exif = im.getexif()
    exif[0x0112] = 6
    im.save(tmp_path / "a.png", exif=exif, icc_profile=_srgb_profile())
    image, traits = load_image_with_traits(tmp_path / "a.png")
    np.testing.assert_array_equal(image, load_image(tmp_path / "a.png"))
    assert traits.icc_profile == _srgb_profile() and not traits.grey
    assert traits.alpha.shape == image.shape[:2] == (10, 6)
    assert traits.alpha[:5].max() == 0 and traits.alpha[5:].min() == 255  # rotated like the pixels
    Image.fromarray(np.full((4, 4), 9, np.uint8)).save(tmp_path / "g.png")
    assert load_image_with_traits(tmp_path / "g.png")[1] == PhotoTraits(grey=True, lossless=True)
    Image.fromarray(np.full((4, 4, 3), 9, np.uint8)).convert("RGBA").save(tmp_path / "opaque.png")
    assert load_image_with_traits(tmp_path / "opaque.png")[1].alpha is None  # an all-opaque alpha is no transparency


def test_save_image_keeps_the_photos_traits(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    alpha = np.zeros((8, 8), np.uint8)
    changed = np.zeros((8, 8), np.float32)
    changed[:2] = 1.0  # the edit moved these rows: opaque now
    like = PhotoTraits(icc_profile=_srgb_profile(), alpha=alpha)
    save_image(rgb, tmp_path / "e.png", like=like, changed=changed)
    with Image.open(tmp_path / "e.png") as im:
        assert im.mode == "RGBA" and im.info["icc_profile"] == _srgb_profile()
        out = np.asarray(im)
    np.testing.assert_array_equal(out[..., :3], rgb)
    assert out[:2, :, 3].min() == 255 and out[2:, :, 3].max() == 0
    save_image(rgb, tmp_path / "e.jpg", like=like)  # JPEG holds no alpha: written opaque, profile kept
    with Image.open(tmp_path / "e.jpg") as im:
        assert im.mode == "RGB" and im.info["icc_profile"] == _srgb_profile()
    grey = np.repeat(rgb[..., :1], 3, axis=2)
    save_image(grey, tmp_path / "g.png", like=PhotoTraits(grey=True))
    with Image.open(tmp_path / "g.png") as im:
        assert im.mode == "L"
        np.testing.assert_array_equal(np.asarray(im), grey[..., 0])


def test_save_image_writes_jpeg_at_high_quality(tmp_path):
    smooth = np.tile(np.linspace(0, 255, 64, dtype=np.uint8)[None, :, None], (64, 1, 3))
    save_image(smooth, tmp_path / "q.jpg")
    Image.fromarray(smooth).save(tmp_path / "default.jpg")
    with Image.open(tmp_path / "q.jpg") as ours, Image.open(tmp_path / "default.jpg") as pillow:
        # coarser quantisation steps mean lower quality: ours are finer than Pillow's default (75)
        assert sum(ours.quantization[0]) < sum(pillow.quantization[0])
    assert JPEG_QUALITY >= 90


def test_half_transparent_pixels_keep_their_colour(tmp_path):
    rgba = np.zeros((6, 8, 4), np.uint8)
    rgba[..., :3] = (219, 104, 70)
    rgba[..., 3] = 128  # half transparent: load_image composites it on white
    rgba[:, :2, 3] = 0
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    image, traits = load_image_with_traits(tmp_path / "a.png")
    assert image[0, 4].tolist() != [219, 104, 70]  # paler, on white
    changed = np.zeros((6, 8), np.float32)
    changed[:2] = 1.0
    edited = image.copy()
    edited[:2] = (10, 20, 30)  # the edit repainted these rows: opaque there
    edited[4, 4] = np.clip(edited[4, 4].astype(int) - 10, 0, 255)  # moved a little, left half transparent
    save_image(edited, tmp_path / "e.png", like=traits, changed=changed)
    out = np.asarray(Image.open(tmp_path / "e.png"))
    np.testing.assert_array_equal(out[2:4], rgba[2:4])  # untouched: colour and alpha exactly as they were
    np.testing.assert_array_equal(out[:2, :, :3], 10 + np.zeros((2, 8, 1), int) + [0, 10, 20])
    assert out[:2, :, 3].min() == 255
    composited = out[4, 4, :3].astype(float) * 128 / 255 + 255 * (1 - 128 / 255)
    np.testing.assert_allclose(composited, edited[4, 4], atol=1.5)  # seen on white, as edited


def test_edits_keep_exif_and_lossless_webp(tmp_path):
    im = Image.fromarray(np.random.default_rng(1).integers(0, 256, (16, 16, 3), dtype=np.uint8))
    exif = im.getexif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0112] = 6  # orientation: the written edit is upright, so the tag goes
    im.save(tmp_path / "a.jpg", exif=exif)
    image, traits = load_image_with_traits(tmp_path / "a.jpg")
    save_image(image, tmp_path / "e.jpg", like=traits)
    written = Image.open(tmp_path / "e.jpg").getexif()
    assert written[0x010F] == "Canon" and written.get(0x0112, 1) == 1
    im.save(tmp_path / "l.webp", lossless=True)
    image, traits = load_image_with_traits(tmp_path / "l.webp")
    assert traits.lossless and not load_image_with_traits(tmp_path / "a.jpg")[1].lossless
    save_image(image, tmp_path / "e.webp", like=traits)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "e.webp").convert("RGB")), image)


def test_float_and_wide_integer_tiffs_are_scaled(tmp_path):
    ramp = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    Image.fromarray(ramp, "F").save(tmp_path / "f.tif")
    grey = load_image(tmp_path / "f.tif")[..., 0]
    assert grey.min() == 0 and grey.max() == 255  # floats in [0, 1], not black
    Image.fromarray((ramp * 200000).astype(np.int32), "I").save(tmp_path / "i.tif")
    assert load_image(tmp_path / "i.tif")[..., 0].max() == 255


def _png_rgb16(path, rgb16: np.ndarray) -> None:
    """A 48-bit colour PNG (Pillow reads these as 8-bit RGB but cannot write them)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    h, w, _ = rgb16.shape
    rows = b"".join(b"\0" + rgb16[y].astype(">u2").tobytes() for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)


def test_sixteen_bit_photos_say_their_edit_has_eight(tmp_path, caplog):
    ramp = np.linspace(0, 65535, 8 * 8 * 3).reshape(8, 8, 3).astype(np.uint16)
    _png_rgb16(tmp_path / "rgb16.png", ramp)
    Image.fromarray(ramp[..., 0]).save(tmp_path / "grey16.png")
    Image.fromarray((ramp[..., 0] >> 8).astype(np.uint8)).save(tmp_path / "grey8.png")
    for name, bits in (("rgb16.png", 16), ("grey16.png", 16), ("grey8.png", 8)):
        image, traits = load_image_with_traits(tmp_path / name)
        assert traits.bits == bits, name
        caplog.clear()
        save_image(image, tmp_path / f"edit-{name}", like=traits)
        warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert len(warned) == (bits > 8) and all("8 bits per channel" in m for m in warned), (name, warned)
    np.testing.assert_allclose(load_image(tmp_path / "rgb16.png"), np.round(ramp / 257.0), atol=1)


def test_colour_tiffs_read_with_their_traits(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (6, 9, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "upright.tif")
    rotated = Image.fromarray(rgb).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned a quarter left: shown after a quarter turn right
    rotated.save(tmp_path / "rotated.tif", exif=exif)
    for name in ("upright.tif", "rotated.tif"):
        image, traits = load_image_with_traits(tmp_path / name)
        np.testing.assert_array_equal(image, rgb, err_msg=name)
        assert traits.lossless and traits.bits == 8, name


def test_an_edits_own_alpha_is_written_and_the_colour_under_it_uncomposited(tmp_path):
    # save_image wrote every changed pixel opaque: where an edit moved a cut-out's edge, the white background it
    # was edited on showed as opaque patches. The edit's alpha (moved with the face) is written instead.
    rgba = np.zeros((6, 8, 4), np.uint8)
    rgba[..., :3] = (219, 104, 70)
    rgba[:, :4, 3] = 255  # the subject on the left, a half-transparent edge, the background cut away
    rgba[:, 4, 3] = 128
    Image.fromarray(rgba, "RGBA").save(tmp_path / "cut.png")
    image, traits = load_image_with_traits(tmp_path / "cut.png")
    moved = np.roll(rgba, 1, axis=1)  # the edit moves the subject a pixel right
    moved[:, 0] = rgba[:, 0]
    alpha = moved[..., 3].copy()
    a = alpha[..., None] / 255.0
    edited = np.round(moved[..., :3] * a + 255 * (1 - a)).astype(np.uint8)  # on white, as the editor sees it
    changed = np.zeros((6, 8), np.float32)
    changed[:, 4:6] = 1.0
    save_image(edited, tmp_path / "e.png", like=traits, changed=changed, alpha=alpha)
    out = np.asarray(Image.open(tmp_path / "e.png"))
    np.testing.assert_array_equal(out[..., 3], alpha)  # the edge moved: no opaque white at column 5
    np.testing.assert_array_equal(out[:, :6, :3], moved[:, :6, :3])  # straight colour, un-composited at the edge
    save_image(edited, tmp_path / "old.png", like=traits, changed=changed)  # no alpha given: opaque where changed
    assert (np.asarray(Image.open(tmp_path / "old.png"))[:, 4:6, 3] == 255).all()
    save_image(edited, tmp_path / "e.jpg", like=traits, alpha=alpha)  # JPEG holds no alpha
    assert Image.open(tmp_path / "e.jpg").mode == "RGB"
    with pytest.raises(ParameterError, match="alpha"):
        save_image(edited, tmp_path / "bad.png", like=traits, alpha=alpha[:, :-1])


def test_pil_images_in_palette_and_ink_modes_give_their_colours():
    # as arrays, a palette image gave its palette indices (read as grey) and a CMYK one its inks (colours inverted)
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[:4] = (200, 40, 30)
    rgb[4:] = (20, 90, 210)
    photo = Image.fromarray(rgb)
    for kept in (photo.quantize(colors=4), photo.convert("CMYK"), photo.convert("YCbCr")):
        got = valid_image(kept).astype(int)
        assert np.abs(got - rgb).max() <= 3, kept.mode
    assert valid_image(photo.convert("L")).shape == (8, 8, 3)  # grey stays grey


def test_a_file_name_where_an_image_array_is_expected_says_so(tmp_path):
    from pathlib import Path

    from facecraft.eval.images import image_list

    for given in ("/photos/me.jpg", Path("/photos/me.jpg")):
        with pytest.raises(ParameterError, match="got the file name '/photos/me.jpg'; give the image itself"):
            valid_image(given)
    # lists of images: one path or PIL image is one item (a path was iterated as its characters)
    photo = Image.new("RGB", (4, 4))
    assert image_list("/photos/me.jpg") == ["/photos/me.jpg"] and image_list(photo) == [photo]
    assert len(image_list(np.zeros((5, 8, 8), np.uint8))) == 5 and len(image_list(np.zeros((8, 8, 3)))) == 1
    with pytest.raises(ParameterError, match="got None"):
        image_list(None)


def test_save_image_names_a_missing_ending_and_makes_the_folder(tmp_path):
    # Pillow's "unknown file extension: " named no file; a missing folder was a raw FileNotFoundError
    picture = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(ParameterError, match="out: give the file an image ending"):
        save_image(picture, tmp_path / "out")
    save_image(picture, tmp_path / "new" / "deeper" / "x.png")
    assert load_image(tmp_path / "new" / "deeper" / "x.png").shape == (4, 4, 3)
