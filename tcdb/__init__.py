"""tcdb: a database-centric platform for superconductor data and machine learning.

The package holds the command line, the top floor that wires the layers together."""

from core import __version__

__all__ = ["__version__"]
