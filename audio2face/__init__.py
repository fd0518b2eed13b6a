"""facecraft.audio2face: speech to ARKit-52 / FLAME facial animation with emotion control."""
