"""How a command reports a refused use case."""
from __future__ import annotations

from typing import NoReturn

import click


def fail(error: Exception) -> NoReturn:
    """End the command with the use case's refusal as its message (exit status 1)."""
    raise click.ClickException(str(error)) from None
