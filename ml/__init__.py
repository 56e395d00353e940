"""Machine learning on frozen snapshots. A module directly in ``ml/`` is shared by every model
(the contract, the registry, the trainer, evaluation, descriptors two models read, the
screening engine); a package is one model's own (``hydride``, ``structural``,
``composition``), and no model package imports another (docs/architecture.md)."""
