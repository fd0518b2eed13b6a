"""Gather the real-speech training folder: 429 human English utterances (274 speakers, 74.0 min) with transcripts.

Why: the speech-to-face model's real-speech stage (``facecraft a2f corpus --real DIR --held-out-speakers ...``)
needs recordings of people, with their text, from more than a handful of speakers. This script is the
reproducible recipe for that folder: it picks the same utterances by rule from public GitHub repositories (pinned
commits), converts them to 16 kHz mono PCM16 and writes, under ``--out``::

    <source>/<utt_id>.wav        16 kHz, mono, PCM 16-bit; content unchanged (no trimming, no gain)
    <source>/<utt_id>.txt        the transcript, one line
    <source>/transcripts.csv     file,text,speaker (what ``a2f corpus --real`` reads)
    manifest.csv                 source,utt_id,speaker,duration_s,text
    SOURCES.md                   repositories, commits, paths and licences actually used

Sources (see ``REPOS`` and ``SOURCES``; a clip is kept when it is 1-20 s long):

- ``librispeech_test_other``: LibriSpeech test-other, 10 utterances of each of 10 speakers, from
  resemble-ai/Resemblyzer ``audio_data/librispeech_test-other`` (flac; 2 are over 20 s, so 98 kept);
- ``librispeech_test_clean``: LibriSpeech test-clean speaker 1089, 4 utterances, from KennethWang1221/Speech2Text;
  LibriSpeech texts for both are column 2 of facebookresearch/fbai-speech ``is21_deep_bias/ref/*.biasing_100.tsv``
  (the official reference, lower-cased);
- ``librispeech_train_clean_100``: LibriSpeech train-clean-100, the first utterance (``-0000``) of each of 251
  speakers, from resemble-ai/Resemblyzer ``audio_data/librispeech_train-clean-100`` (flac, 16 kHz); 250 kept, as
  ``103-1240-0000`` is left out (its text is only in copies whose repository we cannot name). Texts from
  proger/flaky-librispeech ``spin/train-clean-100.seed42.unknownNNNNN.query.txt.spin`` (13 files; ``path TAB <↑>
  ▁PIE CES`` per line): the leading marker token is dropped and the word pieces rejoined (``▁`` starts a word), which
  equals the plain-text reference lines of its other files for the 6,588 utterances they share; lower-cased. That
  repository has no licence file: the texts, like the audio, are LibriSpeech's (CC BY 4.0);
- ``vctk``: 77 VCTK utterances of 13 speakers from KimythAnly/AGAIN-VC (48 kHz), auspicious3000/autovc (16 kHz) and
  yl4579/StarGANv2-VC (48 kHz); where an utterance is in several, the first of that order is used (so the 48 kHz
  AGAIN-VC copy is preferred, and autovc's p228_023 over StarGANv2-VC's). Texts from jaywalnut310/vits
  ``filelists/vctk_audio_sid_text_{train,val,test}_filelist.txt`` (original prompts, outer quotes removed).

Conversion: 16 kHz audio is decoded with soundfile; other rates are resampled by imageio-ffmpeg's ffmpeg
(``-ac 1 -ar 16000``, s16le), the same command the folder was first built with, so the output is bit-identical
(soxr or librosa would resample a little differently).

Licences: LibriSpeech and VCTK are CC BY 4.0 (attribution: LibriSpeech, Panayotov et al. 2015; VCTK, CSTR,
University of Edinburgh); the repositories are Apache-2.0 (Resemblyzer), without a licence file (flaky-librispeech:
only LibriSpeech's texts are used from it) or MIT (the rest). SOURCES.md repeats this.

Deliberately NOT used: ``../shared/data/speech`` and everything it is made of (LJSpeech, rhasspy's Cathy voice,
pocketsphinx-testdata's LibriVox clips, CMU ARCTIC, JFK) -- that is the evaluation data, so training must not see
it; TIMIT sentences (e.g. in speechbrain's test samples) are LDC-licensed.

``--repos DIR`` holds one folder per repository, named ``owner+name`` or ``name``: a clone or checkout, a plain
copy of the files, or a bare git directory (also ``owner+name/repo``, the layout of /work/.mirror). Where a git
directory holds the pinned commit, files are read from that commit (``git show COMMIT:path``), else from the
working tree (or a bare directory's HEAD) with a warning. Get them with, e.g.::

    git clone https://github.com/resemble-ai/Resemblyzer repos/resemble-ai+Resemblyzer   # and the 7 others

Run (clips that exist are kept and tables are rewritten only when they change, so a second run writes nothing)::

    .venv/bin/python tools/gather_real_speech.py --repos /work/.mirror --out /tmp/realspeech
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

from facecraft.audio2face.audio import SAMPLE_RATE as RATE
from facecraft.audio2face.corpus_real import MAX_SECONDS as MAX_S
from facecraft.audio2face.corpus_real import MIN_SECONDS as MIN_S
from facecraft.rigs.paths import atomic_output, write_text_atomic


class SourceError(Exception):
    """A source repository lacks a file, audio or a transcript that the recipe needs."""


@dataclass(frozen=True)
class RepoSpec:
    """A source repository: the commit the folder was built from and its licence (with the audio's own)."""

    commit: str
    licence: str


REPOS: dict[str, RepoSpec] = {
    "resemble-ai/Resemblyzer": RepoSpec(
        "15d828edebe06bc72b9cabc8ef8ca5ab2cb457ce",
        "repo Apache-2.0; audio LibriSpeech CC BY 4.0 (its LICENSE.TXT is beside the audio)",
    ),
    "KennethWang1221/Speech2Text": RepoSpec(
        "bf5854c5995270f29bcc625a31e0b39e545a015d", "repo MIT; audio LibriSpeech CC BY 4.0"
    ),
    "facebookresearch/fbai-speech": RepoSpec(
        "43cdb3ca9644a755d5c6cc55cbcc91132f85ed44", "repo MIT; texts LibriSpeech CC BY 4.0"
    ),
    "KimythAnly/AGAIN-VC": RepoSpec("dbf94bf55882f897c312c7760cd892c51c93c9ab", "repo MIT; audio VCTK CC BY 4.0"),
    "auspicious3000/autovc": RepoSpec("c1827a60e83e6d26030b8953843b2f7cf2bd36db", "repo MIT; audio VCTK CC BY 4.0"),
    "yl4579/StarGANv2-VC": RepoSpec("985df557acad47131587955bfe13ea9b99168f71", "repo MIT; audio VCTK CC BY 4.0"),
    "jaywalnut310/vits": RepoSpec("2e561ba58618d021b5b8323d3765880f7e0ecfdb", "repo MIT; texts VCTK CC BY 4.0"),
    "proger/flaky-librispeech": RepoSpec(
        "1a9c1e96eb83e8de856c10b72d982982612e11b0", "repo without a licence file; texts LibriSpeech CC BY 4.0"
    ),
}


@dataclass(frozen=True)
class AudioSet:
    """Clips of one repository: those under ``prefix`` whose path fully matches ``pattern``."""

    repo: str
    prefix: str
    pattern: str


@dataclass(frozen=True)
class Source:
    """One output folder: where its audio comes from (in order of preference) and how its texts are read."""

    name: str
    audio: tuple[AudioSet, ...]
    text_repo: str
    text_files: tuple[str, ...]
    parse_texts: Callable[[str], dict[str, str]]
    speaker: Callable[[str], str]
    expected: int  # clips kept when built from the pinned commits
    exclude: frozenset[str] = frozenset()  # ids left out although their audio is there


@dataclass(frozen=True)
class Utterance:
    """A selected clip: its id and where its audio is."""

    utt_id: str
    repo: str
    path: str


def parse_biasing_tsv(content: str) -> dict[str, str]:
    """LibriSpeech ids -> reference text, from an fbai-speech biasing list (utt_id, text, ... per line)."""
    texts = {}
    for line in content.splitlines():
        fields = line.split("\t")
        if len(fields) >= 2:
            texts[fields[0]] = fields[1].strip().lower()
    return texts


def parse_spin_query(content: str) -> dict[str, str]:
    """LibriSpeech ids -> text, from a flaky-librispeech ``*.query.txt.spin`` file (lower-cased).

    Each line is ``path TAB <marker> PIECE PIECE ...``: sentencepiece pieces, a ``▁`` starting a word (also alone,
    before pieces that have no ``▁`` form). The marker token is dropped, the pieces joined and ``▁`` made a space.
    """
    texts = {}
    for line in content.splitlines():
        fields = line.split("\t")
        if len(fields) == 2:
            pieces = fields[1].split()[1:]
            texts[Path(fields[0]).stem] = "".join(pieces).replace("\u2581", " ").strip().lower()
    return texts


def unquote(text: str) -> str:
    """``text`` without one pair of enclosing double quotes."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].strip()
    return text


def parse_vits_filelist(content: str) -> dict[str, str]:
    """VCTK ids -> prompt text, from a vits filelist (``DUMMY2/p225/p225_001.wav|sid|text`` per line)."""
    texts = {}
    for line in content.splitlines():
        fields = line.split("|", 2)
        if len(fields) == 3:
            texts[Path(fields[0]).stem] = unquote(fields[2])
    return texts


SOURCES: tuple[Source, ...] = (
    Source(
        "librispeech_test_clean",
        (
            AudioSet(
                "KennethWang1221/Speech2Text", "LibriSpeech/test-clean", r"LibriSpeech/test-clean/\d+/\d+/[\d-]+\.flac"
            ),
        ),
        "facebookresearch/fbai-speech",
        ("is21_deep_bias/ref/test-clean.biasing_100.tsv",),
        parse_biasing_tsv,
        lambda utt: utt.split("-")[0],
        4,
    ),
    Source(
        "librispeech_test_other",
        (
            AudioSet(
                "resemble-ai/Resemblyzer",
                "audio_data/librispeech_test-other",
                r"audio_data/librispeech_test-other/\d+/[\d-]+\.flac",
            ),
        ),
        "facebookresearch/fbai-speech",
        ("is21_deep_bias/ref/test-other.biasing_100.tsv",),
        parse_biasing_tsv,
        lambda utt: utt.split("-")[0],
        98,
    ),
    Source(
        "librispeech_train_clean_100",
        (
            AudioSet(
                "resemble-ai/Resemblyzer",
                "audio_data/librispeech_train-clean-100",
                r"audio_data/librispeech_train-clean-100/[\d-]+\.flac",
            ),
        ),
        "proger/flaky-librispeech",
        tuple(
            f"spin/train-clean-100.seed42.unknown{start:05d}.query.txt.spin"
            for start in (0, 2186, 4382, 6578, 8774, 10970, 13166, 15362, 17558, 19754, 21950, 24146, 26342)
        ),
        parse_spin_query,
        lambda utt: utt.split("-")[0],
        250,
        frozenset({"103-1240-0000"}),  # its text is only in copies whose repository we cannot name
    ),
    Source(
        "vctk",
        (
            AudioSet("KimythAnly/AGAIN-VC", "data/wav48", r"data/wav48/p\d+/p\d+_\d+\.wav"),
            AudioSet("auspicious3000/autovc", "wavs", r"wavs/p\d+/p\d+_\d+\.wav"),
            AudioSet("yl4579/StarGANv2-VC", "Demo/VCTK-corpus", r"Demo/VCTK-corpus/p\d+/p\d+_\d+\.wav"),
        ),
        "jaywalnut310/vits",
        tuple(f"filelists/vctk_audio_sid_text_{split}_filelist.txt" for split in ("train", "val", "test")),
        parse_vits_filelist,
        lambda utt: utt.split("_")[0],
        77,
    ),
)


class Repo:
    """Files of one source repository, from a git commit or from a folder on disk."""

    def __init__(self, slug: str, root: Path, git: list[str] | None, commit: str | None, from_commit: bool):
        self.slug, self.root, self.git, self.commit, self.from_commit = slug, root, git, commit, from_commit

    @property
    def origin(self) -> str:
        """Where the files were read, for SOURCES.md."""
        if self.commit is None:
            return f"{self.slug} (plain copy, commit unknown)"
        return f"{self.slug} @ {self.commit}" + ("" if self.from_commit else " (working tree)")

    def list(self, prefix: str) -> list[str]:
        """Paths (relative, ``/``-separated) of all files under ``prefix``."""
        if self.from_commit:
            out = self._git("ls-tree", "-r", "-z", "--name-only", self.commit, "--", prefix)
            return sorted(p for p in out.decode().split("\0") if p)
        base = self.root / prefix
        return sorted(p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file())

    def read(self, path: str) -> bytes:
        """The bytes of ``path``; a clear error when the repository lacks it."""
        if self.from_commit:
            try:
                return self._git("show", f"{self.commit}:{path}")
            except subprocess.CalledProcessError:
                raise SourceError(f"{self.origin}: no file {path} (in {self.root})") from None
        try:
            return (self.root / path).read_bytes()
        except FileNotFoundError:
            raise SourceError(f"{self.origin}: no file {path} (in {self.root})") from None

    def _git(self, *args: str) -> bytes:
        assert self.git is not None
        return subprocess.run([*self.git, *args], capture_output=True, check=True).stdout


def _git_command(folder: Path) -> list[str] | None:
    """How to call git on ``folder``: a checkout (has ``.git``) or a bare git directory; None when neither."""
    if (folder / ".git").exists():
        return ["git", "-C", str(folder)]
    if (folder / "HEAD").is_file() and (folder / "objects").is_dir():
        return ["git", "--git-dir", str(folder)]
    return None


def _run_git(git: list[str], *args: str) -> str | None:
    """Stripped output of a git command; None when it fails."""
    result = subprocess.run([*git, *args], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else None


def _candidates(repos_dir: Path, slug: str) -> list[Path]:
    """Folders that may hold ``owner/name``: ``owner+name`` or ``name``."""
    return [repos_dir / slug.replace("/", "+"), repos_dir / slug.split("/")[1]]


def open_repo(repos_dir: Path, slug: str) -> Repo | None:
    """The repository ``slug`` under ``repos_dir`` (see the module docstring for the layouts); None when absent."""
    pinned = REPOS[slug].commit
    for base in _candidates(repos_dir, slug):
        if not base.is_dir():
            continue
        for folder in (base, base / "repo"):
            git = _git_command(folder) if folder.is_dir() else None
            if git is None:
                continue
            if _run_git(git, "cat-file", "-e", f"{pinned}^{{commit}}") is not None:
                return Repo(slug, folder, git, pinned, from_commit=True)
            head = _run_git(git, "rev-parse", "HEAD")
            print(f"warning: {slug}: commit {pinned} is not in {folder}; reading its HEAD {head}", file=sys.stderr)
            if git[1] == "-C":  # a checkout: its working tree
                return Repo(slug, folder, git, head, from_commit=False)
            return Repo(slug, folder, git, head, from_commit=head is not None)
        return Repo(slug, base, None, None, from_commit=False)
    return None


def open_repos(repos_dir: Path) -> dict[str, Repo]:
    """All source repositories; exits naming every one that is missing and how to get it."""
    repos, missing = {}, []
    for slug in REPOS:
        repo = open_repo(repos_dir, slug)
        if repo is None:
            looked = ", ".join(str(p) for p in _candidates(repos_dir, slug))
            missing.append(
                f"  {slug} @ {REPOS[slug].commit} (looked for {looked}); get it with:\n"
                f"    git clone https://github.com/{slug} {_candidates(repos_dir, slug)[0]}"
            )
        else:
            repos[slug] = repo
    if missing:
        sys.exit(f"error: source repositories missing under {repos_dir}:\n" + "\n".join(missing))
    return repos


def select(source: Source, repos: dict[str, Repo]) -> list[Utterance]:
    """The clips of ``source`` by id; an id found in several audio sets comes from the first of them."""
    chosen: dict[str, Utterance] = {}
    for audio in source.audio:
        paths = [p for p in repos[audio.repo].list(audio.prefix) if re.fullmatch(audio.pattern, p)]
        if not paths:
            raise SourceError(f"{repos[audio.repo].origin}: no audio under {audio.prefix}/ ({audio.pattern})")
        for path in paths:
            utt_id = Path(path).stem
            chosen.setdefault(utt_id, Utterance(utt_id, audio.repo, path))
    return [chosen[k] for k in sorted(chosen) if k not in source.exclude]


def load_texts(source: Source, repos: dict[str, Repo]) -> dict[str, str]:
    """Utterance id -> transcript, from all the text files of ``source``."""
    texts: dict[str, str] = {}
    for path in source.text_files:
        texts.update(source.parse_texts(repos[source.text_repo].read(path).decode("utf-8")))
    return texts


def ffmpeg_16k(data: bytes) -> np.ndarray:
    """``data`` (an audio file's bytes) decoded and resampled to 16 kHz mono by imageio-ffmpeg's ffmpeg."""
    try:
        import imageio_ffmpeg
    except ImportError:
        sys.exit("error: resampling needs imageio-ffmpeg (pip install imageio-ffmpeg)")
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", "pipe:0", "-ac", "1", "-ar", str(RATE)]
    result = subprocess.run([*cmd, "-f", "s16le", "-"], input=data, capture_output=True, check=True)
    return np.frombuffer(result.stdout, dtype="<i2").astype(np.float32) / 32768


def decode_16k(data: bytes) -> np.ndarray:
    """``data`` as 16 kHz mono float32: soundfile where it already is 16 kHz, else ffmpeg."""
    x, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return x.mean(axis=1) if rate == RATE else ffmpeg_16k(data)


def write_text_if_changed(path: Path, content: str) -> None:
    """Write ``content`` (kept byte for byte, ``\\r\\n`` included) unless the file already holds it."""
    if not path.is_file() or path.read_bytes() != content.encode("utf-8"):
        write_text_atomic(path, content, pid=False)  # an interrupted run leaves no partial output


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    """A csv table (the csv module's default dialect) as a string."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def convert(utt: Utterance, repo: Repo, wav: Path) -> float | None:
    """Duration (s) of ``utt`` at ``wav``, writing it if absent; None when it is out of the 1-20 s range."""
    if wav.is_file():
        return sf.info(str(wav)).frames / RATE
    x = decode_16k(repo.read(utt.path))
    duration = len(x) / RATE
    if not MIN_S <= duration <= MAX_S:
        return None
    with atomic_output(wav, pid=False) as tmp:
        sf.write(str(tmp), x, RATE, subtype="PCM_16", format="WAV")
    return duration


def gather(source: Source, repos: dict[str, Repo], out: Path) -> list[list[str]]:
    """Write the folder of ``source``; its manifest rows (source, utt_id, speaker, duration_s, text)."""
    folder = out / source.name
    folder.mkdir(parents=True, exist_ok=True)
    utts, texts = select(source, repos), load_texts(source, repos)
    unknown = [u.utt_id for u in utts if u.utt_id not in texts]
    if unknown:
        files = ", ".join(source.text_files)
        raise SourceError(f"{repos[source.text_repo].origin}: no transcript for {', '.join(unknown)} in {files}")
    rows, skipped = [], []
    for utt in tqdm(utts, desc=source.name, unit="clip"):
        duration = convert(utt, repos[utt.repo], folder / f"{utt.utt_id}.wav")
        if duration is None:
            skipped.append(utt.utt_id)
            continue
        write_text_if_changed(folder / f"{utt.utt_id}.txt", texts[utt.utt_id] + "\n")
        rows.append([source.name, utt.utt_id, source.speaker(utt.utt_id), str(round(duration, 3)), texts[utt.utt_id]])
    table = [[f"{utt_id}.wav", text, speaker] for _, utt_id, speaker, _, text in rows]
    write_text_if_changed(folder / "transcripts.csv", csv_text(["file", "text", "speaker"], table))
    minutes = sum(float(r[3]) for r in rows) / 60
    print(f"{source.name}: {len(rows)} clips, {minutes:.2f} min; out of {MIN_S:g}-{MAX_S:g} s: {skipped or 'none'}")
    if len(rows) != source.expected:
        print(f"warning: {source.name}: {len(rows)} clips, not the {source.expected} of the pinned commits")
    return rows


def sources_md(rows: list[list[str]], repos: dict[str, Repo]) -> str:
    """SOURCES.md: per source its clips, minutes and speakers; per repository the commit read and licence."""
    lines = [
        "# Real human English speech with transcripts (for training)",
        "",
        "Written by `tools/gather_real_speech.py` (its docstring says why and what is deliberately not used:",
        "LJSpeech, rhasspy Cathy, pocketsphinx-testdata LibriVox, ../shared/data/speech -- the evaluation data).",
        "Layout: `<source>/<utt_id>.wav` (16 kHz, mono, PCM 16-bit), `<source>/<utt_id>.txt`,",
        "`<source>/transcripts.csv` (file,text,speaker); `manifest.csv`: source, utt_id, speaker, duration_s, text.",
        f"Kept clips {MIN_S:g}-{MAX_S:g} s long. Total: **{len(rows)} utterances, "
        f"{sum(float(r[3]) for r in rows) / 60:.1f} min, {len({r[2] for r in rows})} speakers**.",
        "Conversion: 16 kHz flac/wav decoded with soundfile; 48 kHz wav resampled by imageio-ffmpeg's ffmpeg",
        "(`-ac 1 -ar 16000`). No trimming. Where a VCTK id is in several repos, the copy used is AGAIN-VC's,",
        "else autovc's, else StarGANv2-VC's. train-clean-100 texts: the `*.query.txt.spin` lines without their",
        "leading marker token, word pieces rejoined, lower-cased; `103-1240-0000` is left out (no nameable text).",
        "",
        "| source dir | utts | minutes | speakers | audio from | transcripts from |",
        "|---|---|---|---|---|---|",
    ]
    for source in SOURCES:
        mine = [r for r in rows if r[0] == source.name]
        speakers = sorted({r[2] for r in mine})
        audio = "; ".join(f"`{a.repo}` `{a.prefix}/`" for a in source.audio)
        texts = ", ".join(f"`{p}`" for p in source.text_files)
        minutes = sum(float(r[3]) for r in mine) / 60
        lines.append(
            f"| `{source.name}` | {len(mine)} | {minutes:.2f} | {len(speakers)}: {', '.join(speakers)} | {audio} "
            f"| `{source.text_repo}` {texts} |"
        )
    lines += ["", "| repository | read from | licence |", "|---|---|---|"]
    lines += [f"| {slug} | {repos[slug].origin} | {spec.licence} |" for slug, spec in REPOS.items()]
    lines += [
        "",
        "LibriSpeech (Panayotov et al., 2015) and VCTK (CSTR, University of Edinburgh) are CC BY 4.0.",
        "proger/flaky-librispeech has no licence file; only LibriSpeech's texts (CC BY 4.0) are taken from it.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repos", type=Path, required=True, help="folder of the source repositories (see docstring)")
    parser.add_argument("--out", type=Path, required=True, help="output folder (existing clips are kept)")
    args = parser.parse_args(argv)
    if not args.repos.is_dir():
        sys.exit(f"error: --repos {args.repos} is not a folder")
    repos = open_repos(args.repos)
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        rows = [row for source in sorted(SOURCES, key=lambda s: s.name) for row in gather(source, repos, args.out)]
    except SourceError as error:
        sys.exit(f"error: {error}")
    write_text_if_changed(
        args.out / "manifest.csv", csv_text(["source", "utt_id", "speaker", "duration_s", "text"], rows)
    )
    write_text_if_changed(args.out / "SOURCES.md", sources_md(rows, repos))
    print(f"{len(rows)} clips, {sum(float(r[3]) for r in rows) / 60:.1f} min -> {args.out}")


if __name__ == "__main__":
    main()
