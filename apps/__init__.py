"""facecraft.apps: the ``facecraft`` command line and ``facecraft demo`` (top of the import graph)."""
