"""The audio2face benchmark's building blocks: recording conditions, alignment once, robustness scores."""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.audio2face import bench

from .a2f_helpers import fake_speech, tiny_model


def test_conditions_change_the_recording_as_named():
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    y = (0.1 * np.sin(2 * np.pi * 100 * t) + 0.1 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    quiet = bench.CONDITIONS["-12 dB"](y, rng)
    assert np.allclose(quiet, y * 10 ** (-12 / 20), atol=1e-7)
    noisy = bench.CONDITIONS["white noise 20 dB SNR"](y, rng)
    snr = 10 * np.log10(np.mean(y**2) / np.mean((noisy - y) ** 2))
    assert 19 < snr < 21
    phone = bench.CONDITIONS["telephone band 300-3400 Hz"](y, rng)
    spec = np.abs(np.fft.rfft(phone[4000:]))
    freqs = np.fft.rfftfreq(len(phone) - 4000, 1 / 16000)
    assert spec[np.argmin(abs(freqs - 100))] < 0.1 * spec[np.argmin(abs(freqs - 1000))]  # 100 Hz removed


def test_robustness_scores_follow_the_recording(espeak_speech, monkeypatch):
    """Unchanged audio scores exactly what scoring the model on the levelled audio gives; silence, the worst
    recording, opens no vowel; the seeded noise condition gives the same figures twice; the real conditions all run."""
    from facecraft.audio2face.animate import predict_curves
    from facecraft.audio2face.metrics import score_lip_sync
    from facecraft.audio2face.model import load_default_model

    aligned = bench.aligned_clips([("espeak", espeak_speech.path, espeak_speech.text)])
    assert len(aligned) == 1 and any(p.phone in ("B", "M", "P") for p in aligned[0][3])
    model, rig = load_default_model(), bench._rigs()["default"]
    res = bench.bench_robustness(model, rig, aligned)
    assert set(res) == set(bench.CONDITIONS)
    noise = "white noise 20 dB SNR"
    monkeypatch.setattr(
        bench, "CONDITIONS", {"clean": lambda y, rng: y, "silent": lambda y, rng: 0 * y, noise: bench.CONDITIONS[noise]}
    )
    changed = bench.bench_robustness(model, rig, aligned)
    _, y, sr, phones = aligned[0]
    direct = score_lip_sync(rig, predict_curves(model, bench.levelled(y, sr), sr=sr), phones, fps=model.config.fps)
    assert changed["clean"] == {
        "bilabial_closure_rate": direct.closure_rate,
        "open_vowel_open_rate": direct.open_vowel_rate,
    }
    assert changed["clean"]["open_vowel_open_rate"] > 0.5 and changed["clean"]["bilabial_closure_rate"] > 0.5
    assert changed["silent"]["open_vowel_open_rate"] == 0.0
    assert changed[noise] == res[noise]


def test_models_are_scored_at_their_own_fps(monkeypatch):
    """A 60 fps model whose curves are perfect at 60 fps must score perfectly (a bench reading 30 fps frames
    would look at the wrong phones)."""
    from facecraft.audio2face import animate
    from facecraft.audio2face.teacher import teacher_curves
    from facecraft.rigs.default_rig import default_rig

    y, phones = fake_speech(0)
    model = tiny_model(fps=60.0)

    def oracle(m, audio, *, emotion=None, sr=16000):
        return teacher_curves(phones, fps=m.config.fps, duration=len(audio) / sr, blink=False)

    monkeypatch.setattr(animate, "predict_curves", oracle)
    monkeypatch.setattr(bench, "CONDITIONS", {"clean": lambda y, rng: y})
    aligned = [("fake", y, 16000, phones)]
    rig = default_rig()
    assert bench.bench_robustness(model, rig, aligned)["clean"] == {
        "bilabial_closure_rate": 1.0,
        "open_vowel_open_rate": 1.0,
    }
    res = bench.bench_real_speech({"m60": model}, {"default": rig}, aligned)
    row = res["summary"]["m60@default"]
    assert row["bilabial_closure_rate"] == 1.0 and row["open_vowel_open_rate"] == 1.0
    # the teacher seals its /p b m/ and nothing else: the sealed share of speech frames is the bilabials' share
    from facecraft.audio2face.lip_state import is_sealed
    from facecraft.audio2face.metrics import _phone_frames

    c = oracle(model, y)
    speech = np.ones(len(c), bool)
    for p in phones:
        if p.phone.upper().startswith("SIL"):
            speech[_phone_frames(p, 60.0, len(c))] = False
    share = res["sealed_speech_frames"]["m60"]
    assert share == pytest.approx(is_sealed(c[speech]).mean())
    bil = sum(len(_phone_frames(p, 60.0, len(c))) for p in phones if p.phone in ("P", "B", "M"))
    assert 0 < share <= 1.5 * bil / speech.sum()
    assert set(res["pause_mouth_press"]) == set(res["sealed_speech_frames"]) == {"m60", "teacher(transcript)"}


def test_heldout_real_speech_reads_the_eval_split_of_real_items(tmp_path):
    """Only held-out real speakers' items are scored (not synthetic eval items, not training items), named by
    speaker, with the phones the items store; a corpus without them is an error that says how to build them."""
    from facecraft.audio2face.corpus import write_item, write_manifest
    from facecraft.audio2face.corpus_real import REAL_VOICE_PREFIX
    from facecraft.rigs.default_rig import default_rig
    from facecraft.rigs.errors import MissingFileError

    y, phones = fake_speech(0)
    items = {"real_ann_a_clean": ("ann", "eval"), "real_bob_b_clean": ("bob", "train"), "s0009_tts_clean": ("", "eval")}
    for stem, (speaker, split) in items.items():
        voice = REAL_VOICE_PREFIX + speaker if speaker else "espeak:en-us+f4:170:45"
        write_item(tmp_path / f"{stem}.npz", audio=y, phones=phones, text="t", sentence_index=9, voice=voice,
                   split=split)  # fmt: skip
    write_manifest(tmp_path)
    held = bench.heldout_real_speech(tmp_path)
    assert [name for name, *_ in held] == ["ann/real_ann_a_clean"]
    assert [p.phone for p in held[0][3]] == [p.phone for p in phones]
    res = bench.bench_real_speech({"tiny": tiny_model()}, {"default": default_rig()}, held)
    assert res["clips"] == 1 and res["summary"]["tiny@default"]["bilabials"] == sum(p.phone in "BMP" for p in phones)
    (tmp_path / "real_ann_a_clean.npz").unlink()
    write_manifest(tmp_path)
    with pytest.raises(MissingFileError, match="held-out-speakers"):
        bench.heldout_real_speech(tmp_path)
