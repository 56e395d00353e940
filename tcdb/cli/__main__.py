"""``python -m tcdb.cli``: the same entry point as the ``tcdb`` script."""

from tcdb.cli import main

if __name__ == "__main__":  # a spawned worker process imports this module again: no command
    main()
