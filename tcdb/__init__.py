"""tcdb: a database-centric platform for superconductor data and machine learning."""

__version__ = "0.1.0"
