"""`tokenfuse signals ...` (placeholder until the signals work lands)."""

import typer

app = typer.Typer(help="Spend signals: parse what AWS sends.", no_args_is_help=True)
