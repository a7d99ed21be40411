"""The error boundary of every command: domain errors become one line and an exit code."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from medsee_cli.errors import MedseeError

F = TypeVar("F", bound=Callable[..., Any])

INTERNAL_ERROR_EXIT = 70
_state = {"debug": False}


def set_debug(flag: bool) -> None:
    _state["debug"] = flag
    logging.basicConfig(
        level=logging.DEBUG if flag else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def debug_enabled() -> bool:
    return _state["debug"]


def error_line(message: str) -> None:
    """Print one error line on stderr (plain text: safe for logs and cron mail)."""
    print(f"medsee: error: {message}", file=sys.stderr)


def boundary(func: F) -> F:
    """Run a command; turn `MedseeError` into one line + its exit code, no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except MedseeError as exc:
            if debug_enabled():
                raise
            error_line(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            error_line("interrupted")
            raise typer.Exit(130) from None
        except Exception as exc:
            if debug_enabled():
                raise
            error_line(f"internal error: {exc.__class__.__name__}: {exc} (run with --debug for details)")
            raise typer.Exit(INTERNAL_ERROR_EXIT) from None

    return wrapper  # type: ignore[return-value]
