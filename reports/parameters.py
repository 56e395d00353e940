"""The report's settings, with their defaults.

Why here: only the report (and ``tcdb report``, which serves it) uses them; the dome
tolerance its scans are judged with stays in ``core.parameters``, since the morph runs of
``ml`` judge the same scans.
"""

from __future__ import annotations

# The report site (tcdb report --serve).
REPORT_SERVE_PORT = 8000  # on 127.0.0.1 only; --port changes it, 0 takes any free port
