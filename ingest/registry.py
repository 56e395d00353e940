"""Every source in one line, and the groups ``tcdb ingest`` offers: the pipeline, the group
``all`` and the command line's help texts all come from here.

Adding a source is one module in ``ingest/sources/`` (see ``ingest/contract.py``) and one
``Registered`` line below, in the group it belongs to. Within a group the lines run in order;
``all`` runs the groups in the order of ``GROUPS`` so that links resolve (SuperCon before the
Materials Project, whose online query asks for SuperCon's compositions; the CIFs before the
entries that point at them).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tcdb.ingest.sources import (
    curated_entries,
    curated_structures,
    literature_hydrides,
    literature_structures,
    mp_api,
    mp_mirror,
    nims_supercon,
    reference_structures,
    stanev_supercon,
)

if TYPE_CHECKING:
    from tcdb.ingest.contract import LiveSource, Source

ALL = "all"


@dataclass(frozen=True)
class Group:
    """A ``tcdb ingest`` command: its name and its help text."""

    name: str
    help: str


@dataclass(frozen=True)
class Registered:
    """One source in its group. ``optional``: skipped with a warning when the sources folder
    lacks it. ``instead_of``: for a live source, the id of the source it replaces when the
    service answers (otherwise that one runs)."""

    group: str
    source: Source | LiveSource
    optional: bool = False
    instead_of: str | None = None


@dataclass(frozen=True)
class Registry:
    groups: tuple[Group, ...]  # in the order "all" ingests them
    sources: tuple[Registered, ...]
    all_help: str

    def __post_init__(self) -> None:
        names = {g.name for g in self.groups}
        for line in self.sources:
            if line.group not in names:
                raise ValueError(
                    f"source {line.source.info.id} is registered in group {line.group!r}, "
                    f"which is not one of {', '.join(sorted(names))}"
                )

    @property
    def names(self) -> tuple[str, ...]:
        """Every group name, ``all`` last."""
        return (*(g.name for g in self.groups), ALL)

    def help_texts(self) -> dict[str, str]:
        """Group name → help text, ``all`` included."""
        return {g.name: g.help for g in self.groups} | {ALL: self.all_help}

    def expand(self, group: str) -> tuple[str, ...]:
        """The groups a name stands for: itself, or every group in order for ``all``."""
        if group == ALL:
            return tuple(g.name for g in self.groups)
        if group not in self.names:
            raise ValueError(f"unknown source group {group!r}; choose from {', '.join(self.names)}")
        return (group,)

    def lines(self, group: str) -> list[Registered]:
        """The registered sources of one group (not ``all``), in order."""
        return [line for line in self.sources if line.group == group]

    def plus(self, *lines: Registered, groups: tuple[Group, ...] = ()) -> Registry:
        """This registry with more sources (and groups, which ``all`` runs last)."""
        return replace(self, groups=self.groups + groups, sources=self.sources + lines)


GROUPS = (
    Group("supercon", "The NIMS SuperCon export and Stanev et al.'s cleaned table."),
    Group(
        "materials-project",
        "Materials Project structures: live through mp-api when MP_API_KEY is set and the "
        "network answers, otherwise the offline mirror.",
    ),
    Group("literature", "Literature hydrides and the CIFs of literature/structures."),
)

REGISTRY = Registry(
    GROUPS,
    (
        Registered("supercon", nims_supercon),
        Registered("supercon", stanev_supercon),
        Registered("materials-project", mp_api, instead_of=mp_mirror.info.id),
        Registered("materials-project", mp_mirror),
        Registered("literature", literature_structures),
        Registered("literature", literature_hydrides),
        Registered("literature", reference_structures, optional=True),  # for the morphisms only
        Registered("literature", curated_structures),
        Registered("literature", curated_entries),
    ),
    all_help="Every source, in an order that lets links resolve; a refused file does not stop "
    "the others (exit code 4 when one was refused).",
)
