"""Corpus builder: split rules, augmentations, a real 2-sentence x 1-voice build with espeak-ng, resume, failures."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from facecraft.audio2face import corpus as cp
from facecraft.rigs import ARKIT_INDEX, EMOTIONS
from facecraft.rigs.errors import ParameterError


def test_sentences_and_split_rules():
    sents = cp.load_sentences()
    assert len(sents) >= 200 and all(s and not s.startswith("#") for s in sents)
    held = [i for i in range(len(sents)) if cp.is_held_out_sentence(i)]
    assert held[:3] == [9, 19, 29] and len(held) == len(sents) // 10
    v_train, v_held = cp.TRAIN_VOICES[0], cp.HELD_OUT_VOICES[0]
    assert cp.split_of(0, v_train) == "train"
    assert cp.split_of(9, v_held) == "eval"
    assert cp.split_of(9, v_train) == "unused" and cp.split_of(0, v_held) == "unused"
    assert not set(cp.TRAIN_VOICES) & set(cp.HELD_OUT_VOICES)


def test_augmentations_keep_audio_sane():
    rng = np.random.default_rng(0)
    y = (0.3 * np.sin(2 * np.pi * 200 * np.arange(16000) / 16000) + 0.01 * rng.standard_normal(16000)).astype(
        np.float32
    )
    for aug in cp.AUGMENTATIONS:
        out = aug.apply(y, seed=1)
        assert out.dtype == np.float32 and np.all(np.isfinite(out)) and np.abs(out).max() <= 1.0
        assert abs(len(out) - len(y) / aug.tempo) <= 0.01 * len(y)
    clean = cp.AUGMENTATIONS[0].apply(y, seed=1)
    assert np.array_equal(clean, y)
    noisy = cp.Augmentation("n", noise_snr_db=10.0).apply(y, seed=1)
    snr = 10 * np.log10(np.mean(y**2) / np.mean((noisy - y) ** 2))
    assert 8 < snr < 12
    wet = cp.add_reverb(y, rt60=0.3, rng=np.random.default_rng(0))
    assert wet.shape == y.shape and not np.allclose(wet, y)


def test_voice_spec_errors():
    with pytest.raises(ParameterError, match="unknown engine"):
        cp.Synthesizer("nope:voice")
    with pytest.raises(ParameterError, match="espeak"):
        cp.Synthesizer("espeak:en-us")
    with pytest.raises(ParameterError, match="STRETCH"):
        cp.Synthesizer("flite")
    with pytest.raises(ParameterError, match="stretch"):
        cp.Synthesizer("flite:slt:9")


@pytest.mark.skipif(shutil.which("text2wave") is None, reason="festival not installed (apt-get install festival)")
def test_festival_voice_speaks_and_unknown_names_fail_loudly():
    """text2wave prints an error for an unknown voice but exits 0 without a file; the corpus checks the name."""
    voice = cp.festival_voices()[0]
    slow = cp.Synthesizer(f"festival:{voice}:1.3")("Mom made warm plum soup.")
    fast = cp.Synthesizer(f"festival:{voice}:0.8")("Mom made warm plum soup.")
    assert slow.dtype == np.float32 and np.abs(slow).max() > 0.05
    assert len(slow) > 1.3 * len(fast)
    with pytest.raises(ParameterError, match="not found; installed"):
        cp.Synthesizer("festival:no_such_voice")("hello")


@pytest.mark.skipif(shutil.which("flite") is None, reason="flite not installed (apt-get install flite)")
def test_flite_voices_speak_and_unknown_names_fail_loudly():
    """flite itself falls back to its default voice for an unknown name; the corpus must not."""
    slow = cp.Synthesizer("flite:slt:1.3")("Mom made warm plum soup.")
    fast = cp.Synthesizer("flite:slt:0.8")("Mom made warm plum soup.")
    assert slow.dtype == np.float32 and np.abs(slow).max() > 0.05
    assert len(slow) > 1.3 * len(fast)  # the duration stretch reaches the engine
    with pytest.raises(ParameterError, match="not found; installed: .*slt"):
        cp.Synthesizer("flite:no-such-voice")("hello")


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed (apt-get install espeak-ng)")
def test_build_two_sentences_one_voice_resume_and_failure(tmp_path):
    sents = ["Bob bought a big blue balloon.", "Mom made warm plum soup."]
    voice = "espeak:en-us+f2:160:50"
    spec = cp.CorpusSpec(sentences=sents, voices=[voice], augmentations_per_clip=2)
    stats = cp.build_corpus(tmp_path, spec, progress=False)
    assert stats["built"] == 4 and stats["failed"] == 0, stats
    items = [cp.load_item(p) for p in cp.list_items(tmp_path, "train")]
    assert len(items) == 4
    for it in items:
        assert it.teacher.shape[0] == len(EMOTIONS) and it.teacher.shape[2] == 52
        assert abs(it.teacher.shape[1] - len(it.audio) / 16000 * 30) <= 1
        assert any(p.phone in ("B", "M", "P") for p in it.phones)
        # the neutral teacher closes the lips somewhere (mouthClose follows jawOpen at /b m p/)
        neutral = it.teacher[EMOTIONS.index("neutral")]
        assert neutral[:, 17].max() > 0.1
    # resume: nothing rebuilt
    again = cp.build_corpus(tmp_path, spec, progress=False)
    assert again["built"] == 0 and again["skipped_existing"] == 4
    # one failing voice does not stop the others
    bad = cp.CorpusSpec(sentences=sents[:1], voices=["espeak:xx-nonexistent:160:50", voice])
    stats = cp.build_corpus(tmp_path / "b", bad, progress=False)
    assert stats["failed"] >= 1 and stats["built"] >= 1
    assert any("nonexistent" in f for f in stats["failures"])


def test_retarget_rewrites_teacher_from_stored_phones(tmp_path):
    from facecraft.audio2face.phonetics import Phone

    phones = [Phone(0.0, 0.1, "SIL"), Phone(0.1, 0.3, "AA"), Phone(0.3, 0.4, "M"), Phone(0.4, 0.6, "AA"),
              Phone(0.6, 0.8, "SIL")]  # fmt: skip
    audio = (0.1 * np.sin(np.arange(int(0.8 * 16000)) * 0.05)).astype(np.float32)
    path = tmp_path / "s0000_test_clean.npz"
    cp.write_item(path, audio=audio, phones=phones, text="ma ma", sentence_index=0, voice="espeak:en-us+f2:160:50",
                  emotions=("neutral", "happiness"))  # fmt: skip
    expected = cp.load_item(path).teacher
    with np.load(path) as z:  # a stale corpus: its teacher curves came from other poses
        arrays = {k: z[k] for k in z.files}
    arrays["teacher"] = np.zeros_like(arrays["teacher"])
    np.savez_compressed(path, **arrays)
    cp.write_manifest(tmp_path)
    assert cp.retarget_corpus(tmp_path, progress=False) == {"retargeted": 1, "failed": 0}
    item = cp.load_item(path)
    np.testing.assert_allclose(item.teacher, expected, atol=2e-3)  # phone times are stored as float32
    assert item.teacher[0, :, ARKIT_INDEX["jawOpen"]].max() > 0.3  # the vowels open the jaw again
    np.testing.assert_array_equal(item.audio, cp.load_item(path).audio)
    assert [p.phone for p in item.phones] == [p.phone for p in phones] and item.text == "ma ma"


def test_a_retarget_that_cannot_write_keeps_the_item_and_leaves_no_part_file(tmp_path, monkeypatch):
    from facecraft.audio2face.phonetics import Phone

    phones = [Phone(0.0, 0.2, "SIL"), Phone(0.2, 0.4, "AA"), Phone(0.4, 0.6, "SIL")]
    audio = (0.1 * np.sin(np.arange(int(0.6 * 16000)) * 0.05)).astype(np.float32)
    path = tmp_path / "s0000_test_clean.npz"
    cp.write_item(path, audio=audio, phones=phones, text="ah", sentence_index=0, voice="espeak:en-us+f2:160:50",
                  emotions=("neutral",))  # fmt: skip
    before = path.read_bytes()
    cp.write_manifest(tmp_path)

    def disk_full(file, **arrays):
        open(file, "wb").write(b"PK\x03\x04 half")  # noqa: SIM115 - half a zip, as a full disk leaves it
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cp.np, "savez_compressed", disk_full)
    assert cp.retarget_corpus(tmp_path, progress=False) == {"retargeted": 0, "failed": 1}
    assert path.read_bytes() == before  # the item as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.jsonl", path.name]  # was: s0000_...tmp.npz left


def test_item_names_from_long_voice_specs_fit_a_file_name(tmp_path):
    # a flite voice given as a long path made an item name past 255 bytes (and a slash in it): "File name too long"
    long, other = "flite:/voices/" + "v" * 300 + "/slt.flitevox", "flite:/voices/" + "v" * 300 + "/awb.flitevox"
    names = {cp.item_id(3, voice, "clean") for voice in (long, other)}
    assert len(names) == 2 and all("/" not in n and len(f"{n}.npz".encode()) <= 255 for n in names)
    for n in names:
        (tmp_path / f"{n}.npz").write_bytes(b"")  # a name the file system takes
    assert cp.item_id(3, "espeak:en-us+f2:160:50", "clean") == "s0003_espeak_en-us-f2_160_50_clean"  # as before
