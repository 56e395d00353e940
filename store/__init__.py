"""The artefact store: dataset snapshots and model runs on disk, each a folder with a hashed
manifest and a database row (``artifacts`` holds what both kinds share, ``snapshots`` and
``model_runs`` the kinds, ``prune`` what ``tcdb prune`` removes). Imports schema and core only."""
