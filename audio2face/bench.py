"""``facecraft bench audio2face``: lip sync on real speech (and on the same speech made quieter, louder, noisy or
telephone-band), LVE on held-out voices, disentanglement, speed, streaming latency, and the awkward inputs
(silent, long, corrupt, non-audio).

Every figure is printed in a table and returned in the dict the CLI writes as JSON. Data:

* real speech: the LibriVox utterances of Debian's ``pocketsphinx-testdata``
  (``/usr/share/pocketsphinx/test/data/librivox``) and ``../shared/data/speech`` when present. The model
  runs WITHOUT the transcript; the transcript only gives the phone timings the metric needs (forced
  alignment);
* held-out synthetic clips: held-out voices x held-out sentences (:func:`facecraft.audio2face.corpus.split_of`),
  built into ``out_dir`` on first use;
* optionally (``real_corpus``), the held-out speakers of a real-speech corpus
  (:mod:`facecraft.audio2face.corpus_real`): people of the training sources whom training never heard, scored
  like the real speech above with the phones their items store;
* rigs: facecraft's default rig, and ICT FaceKit from ``../shared/assets`` when present.

Every section scores the audio as every user path hands it to the model: levelled first (:func:`levelled`, the
rule of :func:`facecraft.audio2face.postprocess.level_speech` that ``facecraft animate``, the long-file blocks and the
stream apply), so a clip recorded quieter scores as the clip itself does.

Each model is scored at its own frame rate (``model.config.fps``): the curves it predicts and the phone frames
the metric reads share one clock. The procedural teacher's row is made and scored at :data:`TEACHER_FPS`.
"""

from __future__ import annotations

import logging
import os
import resource
import time
from pathlib import Path

import numpy as np
import torch

from facecraft.rigs import ARKIT_INDEX, EMOTIONS
from facecraft.rigs.assets import shared_data_dir
from facecraft.rigs.emotion_space import EmotionCode, classify_arkit
from facecraft.rigs.errors import MissingFileError
from facecraft.rigs.machine import torch_threads

from .audio import SAMPLE_RATE
from .metrics import lip_vertex_error, mouth_curve_difference, score_lip_sync
from .model import A2FModel
from .postprocess import level_speech, pause_rest_weight, rest_in_pauses
from .transcripts import read_transcripts

log = logging.getLogger(__name__)

LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")
ABLATION_WEIGHTS = Path(__file__).with_name("ablation_no_emotion_losses.safetensors")
TEACHER_FPS = 30.0  # frame rate of the procedural teacher's row in the real-speech table


def real_speech_clips() -> list[tuple[str, Path, str]]:
    """(name, wav, transcript) of the real speech available here."""
    out = []
    if (LIBRIVOX / "transcription").exists():
        for line in (LIBRIVOX / "transcription").read_text().splitlines():
            if "(" not in line:
                continue
            text, _, fid = line.rpartition("(")
            fid = fid.strip(" )")
            text = text.replace("<s>", "").replace("</s>", "").strip()
            wav = LIBRIVOX / f"{fid}.wav"
            if wav.exists():
                out.append((f"librivox/{fid}", wav, text))
    speech = shared_data_dir() / "data" / "speech"
    for file, text in read_transcripts(speech).items():
        if (speech / file).exists():
            out.append((f"shared/{file}", speech / file, text))
    return out


def _rigs() -> dict:
    from facecraft.rigs.default_rig import default_rig

    rigs = {"default": default_rig()}
    ict = shared_data_dir() / "assets" / "ict-facekit" / "FaceXModel"
    if ict.is_dir():
        try:
            from facecraft.rigs.ict import load_ict_rig

            rigs["ict"] = load_ict_rig(ict, face_only=True)
        except Exception as e:  # noqa: BLE001 - the reference rig is optional
            log.warning("ICT FaceKit rig not usable: %s", e)
    return rigs


def aligned_clips(clips) -> list[tuple[str, np.ndarray, int, list]]:
    """(name, audio, sample rate, phones by forced alignment of the transcript) of each clip that aligns."""
    from .audio import load_audio
    from .phonetics import align_transcript

    out = []
    for name, wav, text in clips:
        y, sr = load_audio(wav)
        try:
            out.append((name, y, sr, align_transcript(y, sr, transcript=text).phones))
        except Exception as e:  # noqa: BLE001 - a clip that cannot be aligned cannot be scored
            log.warning("%s: alignment failed (%s); skipped", name, e)
    return out


def levelled(y: np.ndarray, sr: int = SAMPLE_RATE) -> np.ndarray:
    """``y`` (at ``sr`` Hz) as ``facecraft animate`` hands it to either mode: brought to the speech level the model was
    trained at by :func:`~facecraft.audio2face.postprocess.level_speech`, the one rule of
    :func:`~facecraft.audio2face.animate.animate_audio`, the long-file blocks and the stream. Every section reads the
    audio it scores through this (the raw audio is a path no user takes)."""
    return level_speech(y, sr=sr)[0]


def user_curves(model: A2FModel, y: np.ndarray, *, sr: int = SAMPLE_RATE, emotion=None) -> np.ndarray:
    """Curves ``(T, 52)`` at the model's rate that ``facecraft animate`` gives for audio ``y`` already :func:`levelled`:
    the model's frames with the pauses over a noise floor rested, as
    :func:`~facecraft.audio2face.animate.animate_audio` rests them (blinks, head and gaze aside). The sections score
    these, not the model's raw frames (a path no user takes)."""
    from .animate import predict_curves

    curves = predict_curves(model, y, sr=sr, emotion=emotion)
    return rest_in_pauses(curves, pause_rest_weight(y, sr=sr, fps=model.config.fps, num_frames=len(curves)))


def _pooled(pairs) -> float:
    """Pooled rate of (hits, count) pairs."""
    num = sum(a for a, n in pairs if n)
    den = sum(n for _, n in pairs)
    return num / den if den else float("nan")


# ---------------------------------------------------------------------- sections
def bench_real_speech(models: dict[str, A2FModel], rigs: dict, aligned) -> dict:
    """Closure / opening on real speech per model and rig (+ the procedural teacher with the transcript; the
    gap-phone correlation is the clips' frame-weighted mean r, :func:`~facecraft.audio2face.metrics.phone_opening`), and
    per model the mouthPress in the pauses and the share of speech frames whose curves read as sealed lips
    (:func:`facecraft.audio2face.lip_state.is_sealed`; a pressed seal belongs to /p b m/, not to every pause)."""
    from .head_motion import frame_loudness
    from .lip_state import is_sealed
    from .metrics import _phone_frames
    from .teacher import num_frames, teacher_curves

    agg: dict[str, dict[str, list]] = {}
    per_clip = []
    pause_press: dict[str, list] = {}
    sealed: dict[str, list] = {}
    press = [ARKIT_INDEX["mouthPressLeft"], ARKIT_INDEX["mouthPressRight"]]
    fps = {k: float(m.config.fps) for k, m in models.items()} | {"teacher(transcript)": TEACHER_FPS}
    for name, y, sr, phones in aligned:
        y = levelled(y, sr)  # both modes read the levelled audio, as facecraft animate's do
        cands = {k: user_curves(m, y, sr=sr) for k, m in models.items()}
        loud = frame_loudness(y, sr, fps=TEACHER_FPS, num_frames=num_frames(len(y) / sr, TEACHER_FPS))
        cands["teacher(transcript)"] = teacher_curves(
            phones, fps=TEACHER_FPS, duration=len(y) / sr, loudness=loud, blink=False
        )
        for k, curves in cands.items():
            t = len(curves)
            pause = np.zeros(t, bool)
            for p in phones:
                if str(p.phone).upper().startswith("SIL"):
                    pause[_phone_frames(p, fps[k], t)] = True
            if pause.any():
                pause_press.setdefault(k, []).append(float(curves[pause][:, press].mean()))
            if not pause.all():
                sealed.setdefault(k, []).append((int(is_sealed(curves[~pause]).sum()), int((~pause).sum())))
        for cname, curves in cands.items():
            for rname, rig in rigs.items():
                s = score_lip_sync(rig, curves, phones, fps=fps[cname])
                d = agg.setdefault(f"{cname}@{rname}", {"closed": [], "open_mm": [], "opened": [], "gap_r": []})
                d["closed"].append((s.closure_rate * s.num_bilabials, s.num_bilabials))
                if np.isfinite(s.gap_phone_r):
                    d["gap_r"].append((s.gap_phone_r * s.num_frames, s.num_frames))
                d["open_mm"].append((s.open_vowel_mean_mm * s.num_open_vowels, s.num_open_vowels))
                d["opened"].append((s.open_vowel_rate * s.num_open_vowels, s.num_open_vowels))
                per_clip.append({"clip": name, "model": cname, "rig": rname, **s.as_dict()})

    summary = {
        k: {
            "bilabial_closure_rate": _pooled(v["closed"]),
            "bilabials": sum(n for _, n in v["closed"]),
            "open_vowel_mean_gap_mm": _pooled(v["open_mm"]),
            "open_vowel_open_rate": _pooled(v["opened"]),
            "open_vowels": sum(n for _, n in v["opened"]),
            "gap_phone_r": _pooled(v["gap_r"]),
        }
        for k, v in agg.items()
    }
    return {
        "clips": len({c["clip"] for c in per_clip}),
        "summary": summary,
        "pause_mouth_press": {k: float(np.mean(v)) if v else float("nan") for k, v in pause_press.items()},
        "sealed_speech_frames": {k: _pooled(v) for k, v in sealed.items()},
        "per_clip": per_clip,
    }


# Recording conditions the model should survive: (name, function of (audio, rng)).
def _band(y: np.ndarray, low: float, high: float) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    return sosfilt(butter(4, [low, high], btype="band", fs=SAMPLE_RATE, output="sos"), y).astype(np.float32)


def _white_noise(y: np.ndarray, rng: np.random.Generator, snr_db: float) -> np.ndarray:
    n = rng.normal(0.0, 1.0, len(y)).astype(np.float32)
    return (y + n * np.sqrt(np.mean(y**2) / 10 ** (snr_db / 10))).astype(np.float32)


CONDITIONS = {
    "-12 dB": lambda y, rng: (y * 10 ** (-12 / 20)).astype(np.float32),
    "+6 dB": lambda y, rng: np.clip(y * 2.0, -1, 1).astype(np.float32),
    "white noise 20 dB SNR": lambda y, rng: _white_noise(y, rng, 20.0),
    "telephone band 300-3400 Hz": lambda y, rng: _band(y, 300.0, 3400.0),
}


def bench_robustness(model: A2FModel, rig, aligned) -> dict:
    """Closure / opening of one model on the real clips changed as in :data:`CONDITIONS` (seeded), each changed clip
    levelled (:func:`levelled`) as a user's recording is: a quieter copy scores as the clip does."""

    out = {}
    for cname, change in CONDITIONS.items():
        rng = np.random.default_rng(0)
        closed, opened = [], []
        for _, y, sr, phones in aligned:
            curves = user_curves(model, levelled(change(y, rng), sr), sr=sr)
            s = score_lip_sync(rig, curves, phones, fps=model.config.fps)
            closed.append((s.closure_rate * s.num_bilabials, s.num_bilabials))
            opened.append((s.open_vowel_rate * s.num_open_vowels, s.num_open_vowels))
        out[cname] = {"bilabial_closure_rate": _pooled(closed), "open_vowel_open_rate": _pooled(opened)}
    return out


def heldout_items(out_dir: Path, *, max_items: int = 40) -> list:
    """Held-out synthetic items (built into ``out_dir/a2f_eval_corpus`` on first use)."""
    from .corpus import CorpusSpec, build_corpus, list_items, load_item, load_sentences

    d = out_dir / "a2f_eval_corpus"
    if not d.exists() or not list(d.glob("s*.npz")):
        build_corpus(d, CorpusSpec(sentences=load_sentences()), splits=("eval",), progress=True)
    return [load_item(p) for p in list_items(d, "eval")[:max_items]]


def _on_clock(curves: np.ndarray, fps: float, target_fps: float) -> np.ndarray:
    """``curves`` made at ``fps`` on the frames of ``target_fps`` (unchanged when the rates agree)."""
    if abs(fps - target_fps) < 1e-6:
        return curves
    from facecraft.rigs.animation import FaceAnimation

    return FaceAnimation(curves, fps=fps).resample(target_fps).curves


def bench_lve(models: dict[str, A2FModel], rig, items) -> dict:
    """LVE (mm) of each model against the teacher on held-out items: neutral, and over the 8 emotions.

    A model whose fps differs from the corpus's is resampled to the teacher's frames before comparing."""

    out = {}
    for name, m in models.items():
        neutral, emotional, mouth_only = [], [], []
        for it in items:
            y = levelled(it.audio)
            t = it.teacher.shape[1]

            pred = _on_clock(user_curves(m, y), m.config.fps, it.fps)[:t]
            neutral.append(lip_vertex_error(rig, pred, it.teacher[EMOTIONS.index("neutral")][: len(pred)]))
            for k, e in enumerate(EMOTIONS):
                code = None if e == "neutral" else EmotionCode.from_emotion(e, 1.0)
                pe = _on_clock(user_curves(m, y, emotion=code), m.config.fps, it.fps)[:t]
                emotional.append(lip_vertex_error(rig, pe, it.teacher[k][: len(pe)]))
                # the mouth a disentangled model should keep: the neutral teacher's
                mouth_only.append(lip_vertex_error(rig, pe, it.teacher[EMOTIONS.index("neutral")][: len(pe)]))
        out[name] = {
            "lve_neutral_mm": float(np.mean(neutral)),
            "lve_emotional_vs_emotional_teacher_mm": float(np.mean(emotional)),
            "lve_emotional_vs_neutral_teacher_mm": float(np.mean(mouth_only)),
            "items": len(items),
        }
    return out


def bench_disentanglement(models: dict[str, A2FModel], rig, aligned) -> dict:
    """Each clip rendered with each of the 8 emotions (intensity 1): closure spread, mouth change, emotion read."""
    from facecraft.rigs.emotion_space import region_mask

    out = {}
    audio = [(name, levelled(y, sr), phones) for name, y, sr, phones in aligned]

    speech = region_mask("speech")
    for mname, m in models.items():
        fps = float(m.config.fps)
        closure = {e: [] for e in EMOTIONS}
        closure_speech = {e: [] for e in EMOTIONS}
        mouth_diff, mouth_lve, mouth_lve_speech = [], [], []
        correct = {"emotion": {e: [] for e in EMOTIONS}, "upper": {e: [] for e in EMOTIONS}}
        for _, y, phones in audio:
            base = user_curves(m, y)
            for e in EMOTIONS:
                code = None if e == "neutral" else EmotionCode.from_emotion(e, 1.0)
                c = user_curves(m, y, emotion=code)
                s = score_lip_sync(rig, c, phones, fps=fps)
                closure[e].append((s.closure_rate * s.num_bilabials, s.num_bilabials))
                # the same with only the speech channels (jaw, lips) from this emotion: what the model's lip
                # sync does, apart from emotion shapes that move the lips on this rig (e.g. noseSneer)
                only_speech = np.where(speech, c, base)
                s2 = score_lip_sync(rig, only_speech, phones, fps=fps)
                closure_speech[e].append((s2.closure_rate * s2.num_bilabials, s2.num_bilabials))
                if e != "neutral":
                    mouth_diff.append(mouth_curve_difference(c, base))
                    mouth_lve.append(lip_vertex_error(rig, c, base))
                    mouth_lve_speech.append(lip_vertex_error(rig, only_speech, base))
                for region in ("emotion", "upper"):
                    labels, _ = classify_arkit(c, region=region)
                    correct[region][e].append(np.mean([lab == e for lab in labels]))
        rates = {e: sum(a for a, n in v if n) / max(1, sum(n for _, n in v)) for e, v in closure.items()}
        rates_sp = {e: sum(a for a, n in v if n) / max(1, sum(n for _, n in v)) for e, v in closure_speech.items()}
        acc = {r: {e: float(np.mean(v)) for e, v in d.items()} for r, d in correct.items()}
        out[mname] = {
            "closure_rate_per_emotion": rates,
            "closure_spread_points": 100 * (max(rates.values()) - min(rates.values())),
            "closure_rate_per_emotion_speech_channels": rates_sp,
            "closure_spread_points_speech_channels": 100 * (max(rates_sp.values()) - min(rates_sp.values())),
            "mouth_curve_mean_abs_diff": float(np.mean(mouth_diff)),
            "mouth_curve_max_abs_diff": float(np.max(mouth_diff)),
            "mouth_lve_vs_neutral_mm": float(np.mean(mouth_lve)),
            "mouth_lve_vs_neutral_speech_channels_mm": float(np.mean(mouth_lve_speech)),
            "emotion_read_rate_region_emotion": acc["emotion"],
            "emotion_read_mean_region_emotion": float(np.mean(list(acc["emotion"].values()))),
            "emotion_read_rate_region_upper": acc["upper"],
            "emotion_read_mean_region_upper": float(np.mean(list(acc["upper"].values()))),
            "clips": len(audio),
        }
    return out


class FaceFormerSize(torch.nn.Module):
    """A FaceFormer-size reference: wav2vec2-base encoder (random weights) + 1-layer transformer decoder (64-d)."""

    def __init__(self) -> None:
        super().__init__()
        from transformers import Wav2Vec2Config, Wav2Vec2Model

        self.encoder = Wav2Vec2Model(Wav2Vec2Config())
        self.proj = torch.nn.Linear(768, 64)
        layer = torch.nn.TransformerDecoderLayer(64, 4, 128, batch_first=True)
        self.decoder = torch.nn.TransformerDecoder(layer, 1)
        self.head = torch.nn.Linear(64, 52)

    def forward(self, audio: torch.Tensor, fps: float = 30.0) -> torch.Tensor:
        h = self.encoder(audio).last_hidden_state  # (B, N, 768) at 50 Hz
        n = int(np.ceil(audio.shape[1] / SAMPLE_RATE * fps))
        h = torch.nn.functional.interpolate(h.transpose(1, 2), size=n, mode="linear").transpose(1, 2)
        mem = self.proj(h)
        mask = torch.triu(torch.full((n, n), float("-inf")), 1)
        return torch.sigmoid(self.head(self.decoder(mem, mem, tgt_mask=mask)))


def bench_speed(model: A2FModel, audio: np.ndarray, *, faceformer_seconds: float = 10.0) -> dict:
    """RTF on one thread, levelling and features included, for the default model and a FaceFormer-size model."""
    from .animate import predict_curves

    with torch_threads(1):
        predict_curves(model, audio[:SAMPLE_RATE])
        reps, t0 = 3, time.perf_counter()
        for _ in range(reps):
            predict_curves(model, levelled(audio))
        dt = (time.perf_counter() - t0) / reps
        dur = len(audio) / SAMPLE_RATE
        res = {
            "threads": 1,
            "audio_s": dur,
            "default_rtf": dt / dur,
            "default_params": model.num_parameters(),
            "default_weights_mb": os.path.getsize(Path(__file__).with_name("default_a2f.safetensors")) / 1e6
            if Path(__file__).with_name("default_a2f.safetensors").exists()
            else None,
        }
        torch.manual_seed(0)
        ff = FaceFormerSize().eval()
        n = int(faceformer_seconds * SAMPLE_RATE)
        x = torch.from_numpy(np.ascontiguousarray(audio[:n]))[None]
        with torch.no_grad():
            ff(x[:, :SAMPLE_RATE])
            t0 = time.perf_counter()
            ff(x)
            dff = time.perf_counter() - t0
        res.update(
            {
                "faceformer_rtf": dff / (x.shape[1] / SAMPLE_RATE),
                "faceformer_params": sum(p.numel() for p in ff.parameters()),
            }
        )
        res["speedup_vs_faceformer"] = res["faceformer_rtf"] / res["default_rtf"]
    return res


def bench_streaming(model: A2FModel, audio: np.ndarray) -> dict:
    """Latency of the stream in 10, 20 and 50 ms chunks, and its curves against offline inference of the levelled
    ``audio`` (:func:`levelled`):

    * ``max_abs_diff_stream_vs_offline``: the stream fed the same levelled samples (its windows against one pass;
      float precision);
    * ``max_abs_diff_live_level_vs_offline``: the stream levelling ``audio`` as it hears it (a live microphone;
      :class:`~facecraft.audio2face.postprocess.RunningLevel`), against the clip levelled by its whole gain
      (``level_gain_db``): the running estimate of the gain moves as it hears more speech (from 0 dB at the first
      syllable), so frames differ a little where it is off (``live_level_share_over_0.01``: the share of frames
      off by more than 0.01).
    """
    from .animate import predict_curves
    from .stream import measure_latency, stream_array

    y, gain_db = level_speech(audio)  # what levelled() gives, and the gain
    with torch_threads(1):
        lat = {f"chunk_{int(c * 1000)}ms": measure_latency(model, audio, chunk_s=c) for c in (0.01, 0.02, 0.05)}
        off = predict_curves(model, y)
        same = stream_array(model, y, chunk_s=0.02, level=False)
        live = stream_array(model, audio, chunk_s=0.02, pauses=False)  # the levelling's difference alone

    def diff(on: np.ndarray) -> np.ndarray | None:
        return np.abs(off - on).max(axis=1) if off.shape == on.shape else None

    d_same, d_live = diff(same), diff(live)
    lat.update({
        "level_gain_db": float(gain_db),
        "max_abs_diff_stream_vs_offline": float(d_same.max()) if d_same is not None else float("inf"),
        "max_abs_diff_live_level_vs_offline": float(d_live.max()) if d_live is not None else float("inf"),
        "live_level_share_over_0.01": float(np.mean(d_live > 0.01)) if d_live is not None else 1.0,
    })  # fmt: skip
    return lat


def bench_inputs(out_dir: Path, model: A2FModel, *, long_minutes: float = 120.0) -> dict:
    """Silent, long, corrupt and non-audio inputs through :func:`facecraft.audio2face.animate.animate_file`."""
    import soundfile as sf

    from facecraft.rigs.errors import FacecraftError

    from .animate import animate_file

    d = out_dir / "a2f_inputs"
    d.mkdir(parents=True, exist_ok=True)
    res: dict = {}
    sf.write(d / "silent.wav", np.zeros(SAMPLE_RATE * 3, np.float32), SAMPLE_RATE)
    a = animate_file(d / "silent.wav", d / "silent.npz", weights=model, blink=False)
    res["silent_max_weight"] = float(a.curves.max())
    (d / "corrupt.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + os.urandom(200))
    (d / "not_audio.wav").write_text("this is a text file, not audio\n" * 20)
    for name in ("corrupt.wav", "not_audio.wav"):
        try:
            animate_file(d / name, d / f"{name}.npz", weights=model)
            res[name] = "no error (unexpected)"
        except FacecraftError as e:
            res[name] = f"{type(e).__name__}: {e}"
    if long_minutes > 0:
        rng = np.random.default_rng(0)
        path = d / "long.wav"
        block = SAMPLE_RATE * 60
        with sf.SoundFile(path, "w", SAMPLE_RATE, 1, "PCM_16") as f:
            clips = [c for c in real_speech_clips()[:5]]
            from .audio import load_audio

            speech = np.concatenate([load_audio(w)[0] for _, w, _ in clips]) if clips else rng.standard_normal(block)
            for _ in range(int(long_minutes)):
                f.write(np.resize(speech, block).astype(np.float32) * 0.5)
        import tracemalloc

        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        t0 = time.perf_counter()
        anim = animate_file(path, d / "long.npz", weights=model)
        seconds = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        res["long_file"] = {
            "minutes": long_minutes,
            "file_mb": path.stat().st_size / 1e6,
            "frames": anim.num_frames,
            "seconds": seconds,
            # numpy/Python allocations during the call (the whole file decoded at once would be > file size)
            "traced_peak_mb": peak / 1e6,
            "peak_rss_growth_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024,
        }
        path.unlink()
    return res


# ---------------------------------------------------------------------- entry point
def heldout_real_speech(corpus_dir: str | Path) -> list[tuple[str, np.ndarray, int, list]]:
    """(name, audio, sample rate, phones) of the real-speech items of ``corpus_dir``'s eval split (held-out
    speakers; their clean items), named ``speaker/item``."""
    from .corpus import list_items, load_item
    from .corpus_real import REAL_VOICE_PREFIX

    out = []
    for p in list_items(corpus_dir, "eval"):
        item = load_item(p)
        if item.voice.startswith(REAL_VOICE_PREFIX):
            speaker = item.voice.removeprefix(REAL_VOICE_PREFIX)
            out.append((f"{speaker}/{item.id}", item.audio, SAMPLE_RATE, item.phones))
    if not out:
        raise MissingFileError(f"{corpus_dir}: no held-out real speech (build it with a2f corpus --real ... "
                               "--held-out-speakers ...)")  # fmt: skip
    return out


def _lip_sync_table(title: str, section: dict):
    """A rich table of :func:`bench_real_speech`'s summary: one row per model@rig."""
    from rich.table import Table

    t = Table(title=title)
    for col in ("model@rig", "closure", "#bilabial", "open gap mm", "open rate", "gap-phone r"):
        t.add_column(col)
    for k, v in section["summary"].items():
        t.add_row(k, f"{v['bilabial_closure_rate']:.1%}", str(v["bilabials"]), f"{v['open_vowel_mean_gap_mm']:.1f}",
                  f"{v['open_vowel_open_rate']:.1%}", f"{v['gap_phone_r']:.2f}")  # fmt: skip
    return t


def bench_audio2face(
    out_dir: Path, *, long_minutes: float | None = None, weights=None, ablation_weights=None, real_corpus=None
) -> dict:
    """Run every section; print a table; return the figures (see the module docstring).

    ``weights`` / ``ablation_weights``: a candidate model (``.safetensors`` file or training folder) scored in
    place of the shipped weights / the shipped comparison model without the emotion losses (default: shipped).
    ``real_corpus``: a corpus folder whose held-out real speakers are scored too (section ``real_heldout``).
    """
    from rich.console import Console
    from rich.table import Table

    from .audio import load_audio
    from .model import load_default_model

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if long_minutes is None:
        long_minutes = float(os.environ.get("FACECRAFT_A2F_LONG_MINUTES", "120"))
    model = A2FModel.from_pretrained(weights) if weights is not None else load_default_model()
    models = {"learned": model}
    ablation = ablation_weights if ablation_weights is not None else ABLATION_WEIGHTS
    if Path(ablation).exists():
        models["no_emotion_losses"] = A2FModel.from_pretrained(ablation)
    rigs = _rigs()
    clips = real_speech_clips()
    res: dict = {"models": {k: m.config.meta.get("train", {}) for k, m in models.items()}}
    t0 = time.perf_counter()
    aligned = aligned_clips(clips)
    res["real_speech"] = bench_real_speech(models, rigs, aligned)
    if real_corpus is not None:
        res["real_heldout"] = bench_real_speech(models, rigs, heldout_real_speech(real_corpus))
    res["robustness"] = bench_robustness(model, rigs["default"], aligned)
    res["lve_heldout"] = bench_lve(models, rigs["default"], heldout_items(out_dir))
    res["disentanglement"] = bench_disentanglement(models, rigs["default"], aligned[:8])
    speech = (
        np.concatenate([load_audio(w)[0] for _, w, _ in clips]) if clips else np.zeros(SAMPLE_RATE * 30, np.float32)
    )
    res["speed"] = bench_speed(model, speech)
    res["streaming"] = bench_streaming(model, speech[: SAMPLE_RATE * 20])
    res["inputs"] = bench_inputs(out_dir, model, long_minutes=long_minutes)
    res["bench_seconds"] = time.perf_counter() - t0

    con = Console()
    con.print(_lip_sync_table(
        "audio2face: lip sync on real speech (model without transcript; phones by forced alignment)", res["real_speech"]
    ))  # fmt: skip
    if "real_heldout" in res:
        title = f"held-out speakers of {real_corpus} ({res['real_heldout']['clips']} clips, no transcript)"
        con.print(_lip_sync_table(title, res["real_heldout"]))
    rs = res["real_speech"]
    con.print("mouthPress in pauses: " + ", ".join(f"{k} {v:.3f}" for k, v in rs["pause_mouth_press"].items()))
    con.print(
        "speech frames read as sealed: " + ", ".join(f"{k} {v:.1%}" for k, v in rs["sealed_speech_frames"].items())
    )
    t = Table(title="learned model on changed recordings (closure / open-vowel opening, default rig)")
    for col in ("condition", "closure", "open rate"):
        t.add_column(col)
    for k, v in res["robustness"].items():
        t.add_row(k, f"{v['bilabial_closure_rate']:.1%}", f"{v['open_vowel_open_rate']:.1%}")
    con.print(t)
    t = Table(title="LVE (mm) vs teacher, held-out voices x held-out sentences; disentanglement (8 emotions)")
    for col in ("model", "LVE neutral", "LVE emo vs emo teacher", "closure spread pts (speech ch.)", "mouth diff",
                "read (emotion)", "read (upper)"):  # fmt: skip
        t.add_column(col)
    for k in models:
        lv, di = res["lve_heldout"][k], res["disentanglement"][k]
        t.add_row(
            k,
            f"{lv['lve_neutral_mm']:.2f}",
            f"{lv['lve_emotional_vs_emotional_teacher_mm']:.2f}",
            f"{di['closure_spread_points']:.1f} ({di['closure_spread_points_speech_channels']:.1f})",
            f"{di['mouth_curve_mean_abs_diff']:.4f}",
            f"{di['emotion_read_mean_region_emotion']:.1%}",
            f"{di['emotion_read_mean_region_upper']:.1%}",
        )
    con.print(t)
    sp, st = res["speed"], res["streaming"]["chunk_20ms"]
    con.print(
        f"speed (1 thread, levelling and features included): default RTF {sp['default_rtf']:.4f} "
        f"({sp['default_params']:,} params) vs FaceFormer-size RTF {sp['faceformer_rtf']:.3f} "
        f"({sp['faceformer_params']:,} params): {sp['speedup_vs_faceformer']:.0f}x\n"
        f"streaming (20 ms chunks): latency mean {st['latency_mean_ms']:.0f} ms, p95 {st['latency_p95_ms']:.0f} ms, "
        f"max {st['latency_max_ms']:.0f} ms (stated algorithmic {st['stated_algorithmic_ms']:.0f} ms); "
        f"stream vs offline (levelled alike) max diff {res['streaming']['max_abs_diff_stream_vs_offline']:.2e}; "
        f"levelling as it hears {res['streaming']['max_abs_diff_live_level_vs_offline']:.2e} "
        f"(frames over 0.01: {res['streaming']['live_level_share_over_0.01']:.1%})"
    )
    con.print(f"inputs: {res['inputs']}")
    return res
