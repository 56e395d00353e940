"""The CIF behind each morph and prediction row the site links to, written into the site.

Why: a reader who sees a candidate at 300 K wants the structure to open in a viewer. Morph
candidates are not stored as structures (a map holds hundreds of thousands); each linked one
is rebuilt from its stored reference structure, its site substitution and its lattice scales,
as the morph generator made it. A predicted structure file is read from the sources folder.
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from pathlib import Path

import pandas as pd

from tcdb.core.atomic_files import write_text_atomically
from tcdb.reports.inputs import ReportInputs

log = logging.getLogger(__name__)

FOLDER = "structures"  # inside the site folder; its CIFs are written as the site's files are
# (replaced whole, not synced one by one: ``site.DURABLE``)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def morph_structure(parent_json: str, substitution_json: str, scale_ab: float, scale_c: float):
    """The morph of a stored reference: labelled sites substituted, a and b scaled by
    ``scale_ab`` and c by ``scale_c``, fractional coordinates kept."""
    from pymatgen.core import Structure

    from tcdb.core.morph_geometry import morph_of

    parent = Structure.from_dict(json.loads(parent_json))
    substitution = json.loads(substitution_json or "{}")
    species = [substitution.get(site.label, site.species_string) for site in parent]
    return morph_of(parent, species, scale_ab, scale_c)


def _cif(structure) -> str:
    from pymatgen.io.cif import CifWriter

    return str(CifWriter(structure))


def morph_cifs(inputs: ReportInputs, rows: pd.DataFrame, site: Path) -> list[str]:
    """For each row (``family``, ``tc_K``: the peak of a morph's scan), the CIF of the
    candidate at that peak, written under ``site/structures``; its site-relative path per row,
    empty where the candidate is not found."""
    folder = site / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    wanted = [(f, float(t)) for f, t in zip(rows.family, rows.tc_K, strict=True)
              if isinstance(f, str) and pd.notna(t)]  # fmt: skip
    if not wanted:
        return [""] * len(rows)
    values = ", ".join("(?, ?)" for _ in wanted)
    found = inputs.frame(
        f"WITH wanted(family, tc_K) AS (VALUES {values}) "
        "SELECT p.family, p.tc_K, min(m.id) AS id FROM morph_prediction AS p "
        "JOIN wanted USING (family, tc_K) JOIN morph_candidate AS m ON m.id = p.candidate_id "
        "GROUP BY p.family, p.tc_K",
        [v for pair in wanted for v in pair],
    )
    candidates = inputs.frame(
        "SELECT m.id, m.substitution_json, m.lattice_scale, "
        "coalesce(m.lattice_scale_c, m.lattice_scale) AS lattice_scale_c, s.structure_json "
        "FROM morph_candidate AS m JOIN crystal_structure AS s ON s.id = m.parent_structure_id "
        f"WHERE m.id IN ({', '.join('?' for _ in found.id)})",
        list(found.id),
    ).set_index("id") if len(found) else pd.DataFrame()  # fmt: skip
    by_peak = {(f, t): i for f, t, i in zip(found.family, found.tc_K, found.id, strict=True)}
    paths = []
    for family, tc in zip(rows.family, rows.tc_K, strict=True):
        candidate = by_peak.get((family, float(tc))) if pd.notna(tc) else None
        if candidate is None or candidate not in candidates.index:
            paths.append("")
            continue
        name = f"{FOLDER}/{_safe(candidate)}.cif"
        target = site / name
        if not target.exists():
            c = candidates.loc[candidate]
            structure = morph_structure(
                c.structure_json, c.substitution_json, c.lattice_scale, c.lattice_scale_c
            )
            write_text_atomically(target, _cif(structure), durable=False)
        paths.append(name)
    return paths


def input_cifs(inputs: ReportInputs, rows: pd.DataFrame, site: Path) -> list[str]:
    """For each row (``structure_hash``, ``path`` relative to the sources folder), the
    structure file as a CIF under ``site/structures``; empty where the file is not there."""
    from pymatgen.core import Structure

    folder = site / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for key, relative in zip(rows.structure_hash, rows.path, strict=True):
        source = inputs.sources_dir / str(relative)
        if not isinstance(key, str) or not relative or not source.is_file():
            paths.append("")
            continue
        name = f"{FOLDER}/{_safe(key)}.cif"
        target = site / name
        if not target.exists():
            if source.suffix.lower() == ".cif":
                write_text_atomically(target, source.read_text(), durable=False)
            else:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        write_text_atomically(
                            target, _cif(Structure.from_file(source)), durable=False
                        )
                except Exception as exc:  # a file pymatgen cannot read gets no link
                    log.warning("no CIF for %s: %s", relative, exc)
                    paths.append("")
                    continue
        paths.append(name)
    return paths
