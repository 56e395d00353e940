"""Small real slices of the source files, laid out like TCDB_SOURCES in a temporary folder."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

NIMS = "supercon/nims_supercon_oxide_metallic.tsv"
STANEV = "supercon/stanev2018_supercon.csv"
MP_TAR = "materials_project/mp_structures.tar.gz"
LITERATURE = "literature/hydrides_literature.csv"
STRUCTURES = "literature/structures"


def head_lines(source: Path, target: Path, n: int, extra: list[str] = ()) -> list[str]:
    """Copy the first ``n`` lines of a text file and append ``extra`` lines."""
    lines = source.read_text(encoding="utf-8").splitlines()[:n] + list(extra)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lines


def tar_slice(source: Path, target: Path, n: int, extra: dict[str, str] | None = None) -> list[str]:
    """A .tar.gz of the first ``n`` CIFs of ``source`` plus ``extra`` name → text members."""
    import io

    target.parent.mkdir(parents=True, exist_ok=True)
    names = []
    with tarfile.open(source, "r:gz") as src, tarfile.open(target, "w:gz") as dst:
        for member in src:
            if not member.name.endswith(".cif"):
                continue
            dst.addfile(member, src.extractfile(member))
            names.append(member.name)
            if len(names) == n:
                break
        for name, text in (extra or {}).items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
            names.append(name)
    return names


def make_sources(
    real: Path, folder: Path, nims_rows: int = 400, stanev_rows: int = 300, mp_structures: int = 12
) -> Path:
    """A sources tree with the first rows of each real file (and every literature file)."""
    head_lines(real / NIMS, folder / NIMS, 3 + nims_rows)
    head_lines(real / STANEV, folder / STANEV, 1 + stanev_rows)
    tar_slice(real / MP_TAR, folder / MP_TAR, mp_structures)
    (folder / LITERATURE).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(real / LITERATURE, folder / LITERATURE)
    shutil.copytree(real / STRUCTURES, folder / STRUCTURES)
    shutil.copytree(real / "reference", folder / "reference")
    return folder
