"""The artefact store: dataset snapshots and model runs on disk, each with a manifest, hashes
and a database row."""
