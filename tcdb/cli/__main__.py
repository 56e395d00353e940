"""``python -m tcdb.cli``: the same entry point as the ``tcdb`` script."""

from tcdb.cli import main

main()
