"""facecraft.apps: the ``facecraft`` CLI, the Gradio studio and the batch runner (top of the import graph)."""
