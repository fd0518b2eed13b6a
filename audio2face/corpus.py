"""Synthetic training corpus: sentences x voices x augmentations -> audio + phones + teacher curves.

Each item is one ``.npz`` in the corpus folder holding the 16 kHz audio (int16), the phones (forced
alignment of the clean TTS audio with pocketsphinx, times scaled by any tempo change), and the
procedural teacher's curves for the neutral face and for each of the 7 other emotions at intensity 1
(``teacher`` float16 (8, T, 52), :data:`facecraft.rigs.EMOTIONS` order). Training mixes emotions at any
intensity by interpolating neutral and emotional curves.

Split (documented, deterministic): a sentence is held out when its 1-based line number among the
sentences is a multiple of 10; the voices in :data:`HELD_OUT_VOICES` are held out. The *eval* split is
held-out voices on held-out sentences; *train* is the rest minus anything touching a held-out sentence or
voice. ``manifest.jsonl`` lists every item with its split.

Building is resumable (finished items are skipped), shows a progress bar, and one failing item is logged
and reported, never fatal.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facecraft.rigs import EMOTIONS
from facecraft.rigs.errors import FileFormatError, MissingFileError, OptionalDependencyError, ParameterError
from facecraft.rigs.paths import DEFAULT_NAME_MAX, atomic_output, fit_stem, write_text_atomic

from .audio import SAMPLE_RATE, load_audio, resample

log = logging.getLogger(__name__)

SENTENCES_FILE = Path(__file__).with_name("sentences.txt")

# Voice specs: "hibari:<voice>[:speed]", "espeak:<voice[+variant]>:<words per minute>:<pitch 0-99>", or
# "flite:<voice or .flitevox path>[:duration stretch]" (Debian's flite: awb, rms, slt are statistical voices
# built from CMU ARCTIC recordings, closer to real speech than espeak's formant synthesis), or
# "festival:<voice>[:duration stretch]" (festival with its Debian festvox-* voices, e.g. kal_diphone).
TRAIN_VOICES: tuple[str, ...] = (
    "hibari:heart:1.0",
    "hibari:heart:0.85",
    "hibari:heart:1.15",
    "espeak:en-us+f2:160:50",
    "espeak:en-us+f5:150:60",
    "espeak:en-us+m2:165:45",
    "espeak:en-us+m1:155:40",
    "espeak:en-us+klatt:170:50",
    "espeak:en-gb-x-rp+f2:150:70",
    "flite:slt:1.0",
    "flite:rms:1.0",
    "flite:awb:1.0",
)
# Chosen among espeak-ng variants that pocketsphinx aligns reliably (most male variants fail to align).
HELD_OUT_VOICES: tuple[str, ...] = ("espeak:en-us+f4:170:45", "espeak:en-gb-scotland+f4:160:55")
ALL_VOICES: tuple[str, ...] = TRAIN_VOICES + HELD_OUT_VOICES


def load_sentences(path: str | Path | None = None) -> list[str]:
    """Sentences from ``sentences.txt`` (or ``path``): one per line, ``#`` lines and blanks skipped."""
    p = Path(path) if path else SENTENCES_FILE
    if not p.exists():
        raise MissingFileError(f"sentence list not found: {p}")
    return [s.strip() for s in p.read_text(encoding="utf-8").splitlines() if s.strip() and not s.startswith("#")]


def is_held_out_sentence(index: int) -> bool:
    """Held-out rule on the 0-based sentence index: every tenth sentence (1-based numbers 10, 20, ...)."""
    return (index + 1) % 10 == 0


def split_of(sentence_index: int, voice: str) -> str:
    """``"train"``, ``"eval"`` (held-out voice and sentence) or ``"unused"`` (only one of the two held out)."""
    held_s = is_held_out_sentence(sentence_index)
    held_v = voice in HELD_OUT_VOICES
    if held_s and held_v:
        return "eval"
    if held_s or held_v:
        return "unused"
    return "train"


# ---------------------------------------------------------------------- synthesis
class Synthesizer:
    """Text -> 16 kHz mono float32 audio for one voice spec (see :data:`TRAIN_VOICES`)."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        parts = spec.split(":")
        self.engine = parts[0]
        if self.engine == "hibari":
            self.voice = parts[1] if len(parts) > 1 else "heart"
            self.speed = float(parts[2]) if len(parts) > 2 else 1.0
            self._tts = None
        elif self.engine == "espeak":
            if len(parts) != 4:
                raise ParameterError(f"espeak voice spec {spec!r}: expected 'espeak:VOICE:WPM:PITCH'")
            self.voice, self.wpm, self.pitch = parts[1], int(parts[2]), int(parts[3])
            self._exe = shutil.which("espeak-ng") or shutil.which("espeak")
        elif self.engine in ("flite", "festival"):
            if not 2 <= len(parts) <= 3:
                raise ParameterError(f"{self.engine} voice spec {spec!r}: expected '{self.engine}:VOICE[:STRETCH]'")
            self.voice = parts[1]
            self.stretch = float(parts[2]) if len(parts) > 2 else 1.0
            if not 0.3 <= self.stretch <= 3.0:
                raise ParameterError(f"{self.engine} voice spec {spec!r}: duration stretch must be in [0.3, 3]")
            self._exe = shutil.which("flite" if self.engine == "flite" else "text2wave")
        else:
            raise ParameterError(
                f"voice spec {spec!r}: unknown engine {self.engine!r}; expected hibari, espeak, flite or festival"
            )

    def available(self) -> bool:
        if self.engine in ("espeak", "flite", "festival"):
            return self._exe is not None
        try:
            from facecraft.rigs import resolve_asset

            resolve_asset("hibari_assets")
            return True
        except Exception:  # noqa: BLE001 - any failure means "not usable here"
            return False

    def __call__(self, text: str, *, seed: int = 0) -> np.ndarray:
        if self.engine == "hibari":
            return self._hibari(text, seed)
        if self.engine == "flite":
            return self._flite(text)
        if self.engine == "festival":
            return self._festival(text)
        return self._espeak(text)

    def _hibari(self, text: str, seed: int) -> np.ndarray:
        if self._tts is None:
            try:
                from hibari import Hibari
            except ImportError as e:
                raise OptionalDependencyError("hibari-tts is needed: pip install hibari-tts==0.2.1 onnxruntime") from e
            self._tts = Hibari(voice=self.voice, threads=1)
        y = self._tts(text, speed=self.speed, seed=seed)
        return resample(np.asarray(y, np.float32), orig_sr=self._tts.sample_rate, target_sr=SAMPLE_RATE)

    def _espeak(self, text: str) -> np.ndarray:
        if self._exe is None:
            raise OptionalDependencyError("espeak-ng is not installed: apt-get install espeak-ng")
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "out.wav"
            cmd = [self._exe, "-v", self.voice, "-s", str(self.wpm), "-p", str(self.pitch), "-w", str(wav), text]
            subprocess.run(cmd, check=True, capture_output=True, timeout=60)
            return _read_resampled(wav)

    def _flite(self, text: str) -> np.ndarray:
        if self._exe is None:
            raise OptionalDependencyError("flite is not installed: apt-get install flite")
        # flite falls back to its default voice for an unknown name without an error: check the name first
        if not self.voice.endswith(".flitevox") and self.voice not in flite_voices(self._exe):
            known = ", ".join(flite_voices(self._exe))
            raise ParameterError(f"flite voice {self.voice!r} not found; installed: {known}")
        if self.voice.endswith(".flitevox") and not Path(self.voice).is_file():
            raise MissingFileError(f"flite voice file not found: {self.voice}")
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "out.wav"
            cmd = [self._exe, "-voice", self.voice, "-t", text, "-o", str(wav), "--setf",
                   f"duration_stretch={self.stretch}"]  # fmt: skip
            subprocess.run(cmd, check=True, capture_output=True, timeout=60)
            return _read_resampled(wav)

    def _festival(self, text: str) -> np.ndarray:
        if self._exe is None:
            raise OptionalDependencyError("festival is not installed: apt-get install festival festvox-kallpc16k")
        # text2wave prints an error for an unknown voice but exits 0 without a file: check the name first
        if self.voice not in festival_voices():
            known = ", ".join(festival_voices()) or "none"
            raise ParameterError(f"festival voice {self.voice!r} not found; installed: {known}")
        with tempfile.TemporaryDirectory() as tmp:
            wav, txt = Path(tmp) / "out.wav", Path(tmp) / "in.txt"
            txt.write_text(text, encoding="utf-8")
            setup = f"(begin (voice_{self.voice}) (Parameter.set 'Duration_Stretch {self.stretch}))"
            proc = subprocess.run([self._exe, "-o", str(wav), "-eval", setup, str(txt)], capture_output=True,
                                  timeout=60)  # fmt: skip
            if not wav.exists():
                raise FileFormatError(f"festival gave no audio for {text[:40]!r}: {proc.stderr.decode()[-200:]}")
            return _read_resampled(wav)


@functools.lru_cache(maxsize=1)
def festival_voices() -> tuple[str, ...]:
    """Voices festival can load (``voice.list``), e.g. ``kal_diphone``; empty when festival is missing."""
    exe = shutil.which("festival")
    if exe is None:
        return ()
    out = subprocess.run([exe, "--pipe"], input="(print (voice.list))", capture_output=True, text=True, timeout=60)
    return tuple(out.stdout.strip().strip("()").split())


@functools.lru_cache(maxsize=4)
def flite_voices(exe: str) -> tuple[str, ...]:
    """Voice names compiled into the flite executable ``exe`` (``flite -lv``)."""
    out = subprocess.run([exe, "-lv"], check=True, capture_output=True, text=True, timeout=30).stdout
    return tuple(out.split(":", 1)[-1].split())


def _read_resampled(wav: Path) -> np.ndarray:
    """A TTS engine's WAV as 16 kHz mono float32 (through :func:`~facecraft.audio2face.audio.load_audio`, which
    checks the file: an empty or unreadable output raises FileFormatError naming it)."""
    return load_audio(wav, sr=SAMPLE_RATE)[0]


# ---------------------------------------------------------------------- augmentation
@dataclass
class Augmentation:
    """One audio augmentation: ``tempo`` (rate, >1 faster), ``pitch`` (semitones), ``noise_snr_db`` (None = off),
    ``reverb_rt60`` (seconds, 0 = off), ``gain_db``."""

    name: str = "clean"
    tempo: float = 1.0
    pitch: float = 0.0
    noise_snr_db: float | None = None
    reverb_rt60: float = 0.0
    gain_db: float = 0.0

    def apply(self, y: np.ndarray, *, seed: int) -> np.ndarray:
        """Augmented copy of ``y`` (16 kHz float32); phone times must be divided by :attr:`tempo`."""
        import librosa

        rng = np.random.default_rng(seed)
        out = np.asarray(y, np.float32)
        if self.tempo != 1.0:
            out = librosa.effects.time_stretch(out, rate=self.tempo)
        if self.pitch:
            out = librosa.effects.pitch_shift(out, sr=SAMPLE_RATE, n_steps=self.pitch)
        if self.reverb_rt60 > 0:
            out = add_reverb(out, rt60=self.reverb_rt60, rng=rng)
        if self.noise_snr_db is not None:
            power = float(np.mean(out**2)) + 1e-12
            noise = rng.standard_normal(len(out)).astype(np.float32)
            out = out + noise * np.sqrt(power / 10 ** (self.noise_snr_db / 10))
        out = out * 10 ** (self.gain_db / 20)
        peak = float(np.max(np.abs(out), initial=0.0))
        return (out / peak * 0.95 if peak > 0.99 else out).astype(np.float32)


def add_reverb(y: np.ndarray, *, rt60: float, rng: np.random.Generator, wet: float = 0.35) -> np.ndarray:
    """Convolve with a synthetic room response: exponentially decaying noise reaching -60 dB at ``rt60`` s."""
    from scipy.signal import fftconvolve

    n = max(1, int(rt60 * SAMPLE_RATE))
    t = np.arange(n) / SAMPLE_RATE
    ir = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    ir[0] = 0.0
    ir = ir / (np.sqrt(np.sum(ir**2)) + 1e-9)
    wet_sig = fftconvolve(y, ir)[: len(y)]
    return ((1 - wet) * y + wet * wet_sig).astype(np.float32)


AUGMENTATIONS: tuple[Augmentation, ...] = (
    Augmentation("clean"),
    Augmentation("noisy", noise_snr_db=20.0, gain_db=-6.0),
    Augmentation("room", reverb_rt60=0.4, pitch=-1.5),
    Augmentation("fast-high", tempo=1.15, pitch=2.0, noise_snr_db=30.0),
    Augmentation("slow-low", tempo=0.88, pitch=-3.0, reverb_rt60=0.25),
)


# ---------------------------------------------------------------------- items
@dataclass
class CorpusSpec:
    """What to build: sentences x voices x augmentations, at ``fps``."""

    sentences: list[str]
    voices: Sequence[str] = ALL_VOICES
    augmentations: Sequence[Augmentation] = AUGMENTATIONS
    augmentations_per_clip: int = 2
    fps: float = 30.0
    seed: int = 0
    emotions: Sequence[str] = field(default_factory=lambda: list(EMOTIONS))


def item_id(sentence_index: int, voice: str, aug: str) -> str:
    """File stem of an item: sentence, voice and augmentation; a voice spec long enough to pass the file system's
    name limit with ``.npz`` (a flite voice file's path) is cut to fit with a hash (:func:`fit_stem`), and a
    slash in it is no folder."""
    v = voice.replace(":", "_").replace("+", "-").replace("/", "-").replace("\\", "-")
    return fit_stem(f"s{sentence_index:04d}_{v}_{aug}", DEFAULT_NAME_MAX - len(".npz"))


def _phones_to_array(phones) -> tuple[np.ndarray, np.ndarray]:
    times = np.array([[float(p.start), float(p.end)] for p in phones], np.float32).reshape(-1, 2)
    names = np.array([str(p.phone) for p in phones], dtype="<U8")
    return times, names


def phones_from_arrays(times: np.ndarray, names: np.ndarray) -> list:
    """Rebuild ``Phone`` objects from an item's ``phone_times`` (N, 2) s and ``phone_names`` (N,)."""
    from .phonetics import Phone

    return [Phone(float(a), float(b), str(n)) for (a, b), n in zip(times, names, strict=True)]


def teacher_stack(
    phones, *, fps: float, duration: float, emotions: Sequence[str], audio: np.ndarray | None = None
) -> np.ndarray:
    """Teacher curves for each emotion at intensity 1: float32 (len(emotions), T, 52).

    ``audio`` (16 kHz): its loudness sets how far each vowel opens (the teacher's ``loudness``).
    """
    from facecraft.rigs.emotion_space import EmotionCode

    from .head_motion import frame_loudness
    from .teacher import num_frames, teacher_curves

    loud = None
    if audio is not None:
        loud = frame_loudness(audio, SAMPLE_RATE, fps=fps, num_frames=num_frames(duration, fps))
    out = []
    for e in emotions:
        code = None if e == "neutral" else EmotionCode.from_emotion(e, 1.0)
        curves = teacher_curves(phones, fps=fps, duration=duration, emotion=code, loudness=loud, blink=False)
        out.append(np.asarray(curves, np.float32))
    t = min(len(c) for c in out)
    return np.stack([c[:t] for c in out])


def align(audio: np.ndarray, text: str) -> list:
    """Forced alignment of 16 kHz audio to ``text`` with pocketsphinx (the phonetic front-end)."""
    from .phonetics import align_transcript

    return align_transcript(audio, SAMPLE_RATE, transcript=text).phones


def build_item(
    out_path: Path,
    *,
    text: str,
    sentence_index: int,
    voice: str,
    synth: Synthesizer,
    aug: Augmentation,
    fps: float,
    emotions: Sequence[str],
    seed: int,
    clean_cache: dict,
) -> None:
    """Synthesize, align, augment and write one item (see the module docstring for the file's keys)."""
    key = (sentence_index, voice)
    if key not in clean_cache:
        clean_cache.clear()
        try:
            y = synth(text, seed=sentence_index)
            if len(y) < SAMPLE_RATE * 0.3:
                raise FileFormatError(f"voice {voice} produced {len(y)} samples for {text!r}")
            clean_cache[key] = (y, align(y, text))
        except Exception as e:  # remembered so the clip's other augmentations fail fast with the same reason
            clean_cache[key] = e
    if isinstance(clean_cache[key], Exception):
        raise clean_cache[key]
    y, phones = clean_cache[key]
    y_aug = aug.apply(y, seed=seed)
    times, names = _phones_to_array(phones)
    write_item(
        out_path, audio=y_aug, phones=phones_from_arrays(times / aug.tempo, names), text=text,
        sentence_index=sentence_index, voice=voice, augmentation=aug.name, fps=fps, emotions=emotions,
    )  # fmt: skip


def write_item(
    out_path: Path,
    *,
    audio: np.ndarray,
    phones,
    text: str,
    sentence_index: int,
    voice: str,
    augmentation: str = "clean",
    fps: float = 30.0,
    emotions: Sequence[str] = EMOTIONS,
    split: str | None = None,
) -> None:
    """Compute the teacher curves for timed ``phones`` and write one item file atomically.

    ``audio``: 16 kHz mono float32 in [-1, 1]. The split is ``split`` when given, else derived from
    ``sentence_index`` and ``voice`` (:func:`split_of`).
    """
    duration = len(audio) / SAMPLE_RATE
    times, names = _phones_to_array(phones)
    teacher = teacher_stack(phones, fps=fps, duration=duration, emotions=emotions, audio=audio)
    with atomic_output(out_path, "tmp", pid=False) as tmp:
        np.savez_compressed(
            tmp,
            audio=np.clip(np.asarray(audio) * 32767, -32768, 32767).astype(np.int16),
            sample_rate=np.int32(SAMPLE_RATE),
            phone_times=times,
            phone_names=names,
            teacher=teacher.astype(np.float16),
            emotions=np.array(list(emotions)),
            fps=np.float32(fps),
            text=np.array(text),
            voice=np.array(voice),
            augmentation=np.array(augmentation),
            sentence_index=np.int32(sentence_index),
            split=np.array(split or split_of(sentence_index, voice)),
        )


def build_corpus(
    out_dir: str | Path,
    spec: CorpusSpec,
    *,
    splits: Sequence[str] = ("train", "eval"),
    progress: bool = True,
    shard: tuple[int, int] = (0, 1),
    on_item: Callable[[str], None] | None = None,
) -> dict:
    """Build (or resume) a corpus in ``out_dir``; returns counts ``{"built", "skipped_existing", "failed", ...}``.

    Only items whose split is in ``splits`` are built. Each clean sentence/voice is synthesized and aligned
    once; its first augmentation is always ``clean`` and ``augmentations_per_clip - 1`` others are drawn
    with a fixed seed. A failing item is logged and listed under ``"failures"``; the rest go on.
    ``shard=(i, n)`` builds only sentences with ``index % n == i`` (run n processes side by side).
    """
    from tqdm.auto import tqdm

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(spec.seed)
    jobs = []
    for si, text in enumerate(spec.sentences):
        for voice in spec.voices:
            extra = list(rng.permutation(len(spec.augmentations) - 1)[: max(0, spec.augmentations_per_clip - 1)] + 1)
            if split_of(si, voice) not in splits or si % shard[1] != shard[0]:
                continue
            augs = [spec.augmentations[0]] + [spec.augmentations[i] for i in extra]
            if split_of(si, voice) == "eval":
                augs = augs[:1]
            for aug in augs:
                jobs.append((si, text, voice, aug))
    synths: dict[str, Synthesizer] = {}
    stats = {"built": 0, "skipped_existing": 0, "failed": 0, "failures": [], "unavailable_voices": []}
    clean_cache: dict = {}
    for si, text, voice, aug in tqdm(jobs, desc="a2f corpus", disable=not progress, unit="clip"):
        iid = item_id(si, voice, aug.name)
        path = out / f"{iid}.npz"
        if path.exists():
            stats["skipped_existing"] += 1
            continue
        if voice not in synths:
            synths[voice] = Synthesizer(voice)
            if not synths[voice].available():
                log.warning("voice %s is not available here; its items are skipped", voice)
                stats["unavailable_voices"].append(voice)
        if voice in stats["unavailable_voices"]:
            stats["failed"] += 1
            continue
        seed = int(hashlib.sha1(iid.encode()).hexdigest()[:8], 16)
        try:
            build_item(
                path, text=text, sentence_index=si, voice=voice, synth=synths[voice], aug=aug, fps=spec.fps,
                emotions=spec.emotions, seed=seed, clean_cache=clean_cache,
            )  # fmt: skip
            stats["built"] += 1
            if on_item:
                on_item(iid)
        except Exception as e:  # noqa: BLE001 - one bad item must not stop the corpus
            log.warning("corpus item %s failed: %s", iid, e)
            stats["failed"] += 1
            stats["failures"].append(f"{iid}: {type(e).__name__}: {e}")
    write_manifest(out)
    return stats


def retarget_corpus(corpus_dir: str | Path, *, progress: bool = True) -> dict:
    """Recompute every item's teacher curves from its stored phones with the current teacher, in place.

    Synthesis and alignment are the costly part of a corpus and do not depend on the teacher; after a change to
    the viseme poses or the teacher's rules this brings an existing corpus up to date without rebuilding it.
    Each file is rewritten atomically (audio, phones and labels unchanged). Returns ``{"retargeted", "failed"}``.
    """
    from tqdm.auto import tqdm

    stats = {"retargeted": 0, "failed": 0}
    for path in tqdm(list_items(corpus_dir), desc="a2f retarget", disable=not progress, unit="clip"):
        try:
            with np.load(path) as z:
                arrays = {k: z[k] for k in z.files}
            phones = phones_from_arrays(arrays["phone_times"], arrays["phone_names"])
            duration = len(arrays["audio"]) / float(arrays["sample_rate"])
            emotions = [str(e) for e in arrays["emotions"]]
            audio = arrays["audio"].astype(np.float32) / 32767.0
            teacher = teacher_stack(phones, fps=float(arrays["fps"]), duration=duration, emotions=emotions, audio=audio)
            arrays["teacher"] = teacher.astype(np.float16)
            with atomic_output(path, "tmp", pid=False) as tmp:
                np.savez_compressed(tmp, **arrays)
            stats["retargeted"] += 1
        except (OSError, KeyError, ValueError) as e:
            log.warning("corpus item %s not retargeted: %s", path, e)
            stats["failed"] += 1
    return stats


def write_manifest(out_dir: str | Path) -> Path:
    """Rewrite ``manifest.jsonl`` from the item files present (id, split, voice, sentence, frames)."""
    out = Path(out_dir)
    lines = []
    for p in sorted(out.glob("*.npz")):
        if p.name.startswith(".") or p.name.endswith(".tmp.npz"):  # a part file (or an older run's)
            continue
        try:
            with np.load(p) as z:
                rec = {
                    "id": p.stem,
                    "split": str(z["split"]),
                    "voice": str(z["voice"]),
                    "sentence_index": int(z["sentence_index"]),
                    "augmentation": str(z["augmentation"]),
                    "frames": int(z["teacher"].shape[1]),
                    "text": str(z["text"]),
                }
        except Exception as e:  # noqa: BLE001 - a broken file is reported and left out
            log.warning("corpus file %s is unreadable (%s); left out of the manifest", p, e)
            continue
        lines.append(json.dumps(rec))
    path = out / "manifest.jsonl"
    write_text_atomic(path, "\n".join(lines) + ("\n" if lines else ""), "tmp")  # a training run may be reading it
    return path


@dataclass
class CorpusItem:
    """One loaded item: audio (N,) float32 16 kHz, teacher (8, T, 52) float32, phones, and labels."""

    id: str
    audio: np.ndarray
    teacher: np.ndarray
    phones: list
    text: str
    voice: str
    split: str
    fps: float


def load_item(path: str | Path) -> CorpusItem:
    """Read one item file written by :func:`build_item`."""
    p = Path(path)
    try:
        with np.load(p) as z:
            return CorpusItem(
                id=p.stem,
                audio=z["audio"].astype(np.float32) / 32767.0,
                teacher=z["teacher"].astype(np.float32),
                phones=phones_from_arrays(z["phone_times"], z["phone_names"]),
                text=str(z["text"]),
                voice=str(z["voice"]),
                split=str(z["split"]),
                fps=float(z["fps"]),
            )
    except (OSError, KeyError, ValueError) as e:
        raise FileFormatError(f"{p}: not an audio2face corpus item ({e})") from e


def list_items(corpus_dir: str | Path, split: str | None = None) -> list[Path]:
    """Item files of a corpus folder, optionally only one split (read from ``manifest.jsonl``)."""
    d = Path(corpus_dir)
    if not d.is_dir():
        raise MissingFileError(f"corpus folder not found: {d}")
    manifest = d / "manifest.jsonl"
    if not manifest.exists():
        write_manifest(d)
    recs = [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]
    return [d / f"{r['id']}.npz" for r in recs if split is None or r["split"] == split]
