"""Weights files get the mode of any other output, not safetensors' owner-only 0600."""

from __future__ import annotations

import os

import torch

from facecraft.rigs.tensor_files import save_tensors


def test_a_tensor_file_follows_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        path = save_tensors({"w": torch.zeros(3)}, tmp_path / "w.safetensors", metadata={"a": "b"})
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
