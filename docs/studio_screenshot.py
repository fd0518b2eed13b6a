"""Take the README's screenshot of the studio: ``python docs/studio_screenshot.py [-o docs/studio.png]``.

Starts ``facecraft app`` on 127.0.0.1 (a free port), drives Debian's chromium with Playwright (no browser
download: ``/usr/bin/chromium --no-sandbox``), uploads the head of the sample photo (NASA's astronaut, public
domain; cropped around the face and enlarged so the edit shows), applies an emotion (surprise at 0.8 by
default), puts the before/after divider on the face, and saves the Edit tab as a small palette PNG.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
TIMEOUT_MS = 180_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, proc: subprocess.Popen, timeout_s: float = 240.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"facecraft app exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"facecraft app did not answer at {url} within {timeout_s:.0f} s")


def head_photo(path: Path, *, box: tuple[int, int, int, int] = (110, 10, 310, 210), size: int = 512) -> Path:
    """The astronaut's head (``box`` in the 512 px original), enlarged to ``size`` px, saved at ``path``."""
    from PIL import Image

    from facecraft.rigs import resolve_asset

    Image.open(resolve_asset("astronaut")).convert("RGB").crop(box).resize((size, size), Image.LANCZOS).save(path)
    return path


def shoot(
    out: Path, *, emotion: str = "surprise", intensity: float = 0.8, width: int = 1280, height: int = 860,
    colors: int = 128,
) -> Path:  # fmt: skip
    """Start the studio, make one edit of the astronaut's head, and save the page's top as a palette PNG."""
    import tempfile

    from PIL import Image
    from playwright.sync_api import expect, sync_playwright

    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "facecraft.apps.cli", "app", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(url, proc)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(url)
            status = page.locator("#edit-status")
            with tempfile.TemporaryDirectory() as tmp:
                photo = head_photo(Path(tmp) / "astronaut-head.png")
                page.locator("#edit-photo input[type=file]").set_input_files(str(photo))
                expect(status).to_contain_text("face(s) found", timeout=TIMEOUT_MS)
            page.locator("#edit-emotion input").click()
            page.get_by_role("option", name=emotion).click()
            box = page.locator("#edit-intensity input[type=number]")
            box.fill(f"{intensity:g}")
            box.press("Enter")
            page.locator("#edit-apply").click()
            expect(status).to_contain_text(f"emotion={emotion}:{intensity:.3f}", timeout=TIMEOUT_MS)
            expect(status).to_contain_text("face(s) edited", timeout=TIMEOUT_MS)
            page.wait_for_timeout(1500)  # the after-image fades in
            page.evaluate("window.scrollTo(0, 0)")  # Apply scrolled the page; show the tabs and the photo
            page.wait_for_timeout(500)
            raw = out.with_suffix(".raw.png")
            page.screenshot(path=str(raw))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    Image.open(raw).convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    raw.unlink()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", type=Path, default=Path(__file__).with_name("studio.png"))
    parser.add_argument("--emotion", default="surprise", help="one of the eight emotion names")
    parser.add_argument("--intensity", type=float, default=0.8)
    args = parser.parse_args()
    path = shoot(args.out, emotion=args.emotion, intensity=args.intensity)
    print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
