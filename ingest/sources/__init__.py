"""One module per source, each keeping the contract of ``ingest/contract.py`` (``info``,
``fingerprint``, ``build``; ``connect`` for a service). ``ingest/registry.py`` lists them; code
that needs one source's description imports that module's ``info``."""
