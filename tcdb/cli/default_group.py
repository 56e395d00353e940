"""A command group that runs its default command when the first argument names no command.

Why: ``tcdb predict PATH…`` predicted structures before ``predict`` had subcommands; scripts
and the Makefile still call it that way, so ``predict`` falls back to ``structures``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from typer.core import TyperGroup

if TYPE_CHECKING:  # the annotation only: importing click costs every command's start
    import click


class DefaultCommandGroup(TyperGroup):
    """``group ARG…`` is ``group DEFAULT ARG…`` unless ARG names a command or asks for help."""

    default_command = "structures"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)
