"""Readers and writers of rig and animation files (one module per format)."""
