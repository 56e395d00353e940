"""The domain core: what every layer shares (compositions, structures, hashing, errors,
settings, the parameters several layers check, provenance). It imports no other tcdb layer."""

__version__ = "0.1.0"
