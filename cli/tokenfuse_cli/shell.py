"""The root command's group: the one place a command's failure becomes one line and an exit code
(:mod:`tokenfuse_cli.errors`), and the help shows flags without a ``<bool>`` type."""

from __future__ import annotations

import os
from typing import Any

import typer
from typer._click.core import Context
from typer.core import TyperCommand, TyperGroup, TyperOption

from tokenfuse_cli.errors import DEBUG_VARIABLE, EXIT_FAILED, explain


class TokenfuseGroup(TyperGroup):
    """``tokenfuse``: sub-commands listed in :attr:`order` (the order a user meets them), whether
    typer made them from a function or a sub-app; any other after them, as added."""

    order: tuple[str, ...] = ()

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        _untyped_flags(self)

    def list_commands(self, ctx: Context) -> list[str]:
        rank = {name: index for index, name in enumerate(self.order)}
        return sorted(super().list_commands(ctx), key=lambda name: rank.get(name, len(rank)))

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # typer's own: exit codes, usage errors (exit 2 with their message)
        except Exception as error:
            explained = explain(error)
            if explained is None and os.environ.get(DEBUG_VARIABLE):
                raise
            prefix = f"tokenfuse {ctx.invoked_subcommand or ''}".strip()
            if explained is None:
                line = f"unexpected {type(error).__name__}: {' '.join(str(error).split())}"[:300]
                typer.echo(f"{prefix}: {line} ({DEBUG_VARIABLE}=1 shows the traceback)", err=True)
                raise typer.Exit(EXIT_FAILED) from None
            typer.echo(f"{prefix}: {explained.line}", err=True)
            raise typer.Exit(explained.code) from None


def _untyped_flags(command: TyperCommand | TyperGroup) -> None:
    """A flag takes no value: its help row shows no type (typer would print ``<bool>``). Done for
    every command under the root once, help options included."""
    context = Context(command)
    for param in [*command.params, command.get_help_option(context)]:
        if isinstance(param, TyperOption) and param.is_flag:
            param.metavar = ""
    if isinstance(command, TyperGroup):
        for child in command.commands.values():
            if isinstance(child, TyperCommand | TyperGroup):
                _untyped_flags(child)
