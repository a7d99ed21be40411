"""The error boundary of every command: every error becomes one line and an exit code.

Two layers meet here:

- `boundary` wraps each command body: a `MedseeError` prints as ``medsee: error: ITEM: REASON``
  and exits with the error's own `exit_code`; anything else is an internal error (70).
- `MedseeGroup` is the click group of the application (and of its sub-groups): the
  command-line parser's mistakes (unknown option or command, missing argument, bad value)
  print as the same one line and exit 2 (`ExitCode.USAGE`), instead of click/typer's boxed
  panels. ``--help`` output is untouched.

A closed stdout (``medsee models list --json | head -3``) is a normal end: nothing more is
printed and the exit status is 141, what a coreutils program killed by SIGPIPE reports.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

import typer
from typer.core import TyperGroup

try:  # typer 0.2x parses with its own copy of click; older releases use click itself
    from typer import _click as click
except ImportError:  # pragma: no cover - depends on the installed typer
    import click  # type: ignore[no-redef]  # the same module under its older name

from medsee_cli.errors import ExitCode, MedseeError

F = TypeVar("F", bound=Callable[..., Any])

INTERNAL_ERROR_EXIT = ExitCode.INTERNAL
_state = {"debug": False}


class LineFormatter(logging.Formatter):
    """A logged warning or error as the documented one line, ``medsee: warning: MESSAGE``
    (not ``WARNING medsee_cli.x: ...``); the logger's name and any traceback stay for --debug."""

    def format(self, record: logging.LogRecord) -> str:
        kind = "warning" if record.levelno < logging.ERROR else "error"
        return f"medsee: {kind}: {_one_line(record.getMessage())}"


def set_debug(flag: bool) -> None:
    _state["debug"] = flag
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s") if flag else LineFormatter())
    logging.basicConfig(level=logging.DEBUG if flag else logging.WARNING, handlers=[handler])


def debug_enabled() -> bool:
    return _state["debug"]


def error_line(message: str) -> None:
    """Print one error line on stderr (plain text: safe for logs and cron mail)."""
    print(f"medsee: error: {_one_line(message)}", file=sys.stderr, flush=True)


def warning_line(message: str) -> None:
    """Print one warning line on stderr: ``medsee: warning: MESSAGE`` (MESSAGE is ``ITEM: REASON``)."""
    print(f"medsee: warning: {_one_line(message)}", file=sys.stderr, flush=True)


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def quiet_broken_pipe() -> NoReturn:
    """End quietly after the reader of stdout went away (``| head``): no second error at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout without a file descriptor (a test runner's buffer)
        pass
    raise SystemExit(ExitCode.BROKEN_PIPE)


def boundary(func: F) -> F:
    """Run a command; turn `MedseeError` into one line + its exit code, no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, click.exceptions.ClickException):
            raise
        except BrokenPipeError:
            quiet_broken_pipe()
        except MedseeError as exc:
            if debug_enabled():
                raise
            error_line(str(exc))
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            error_line("interrupted")
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        except Exception as exc:
            if debug_enabled():
                raise
            error_line(f"internal error: {exc.__class__.__name__}: {exc} (run with --debug for details)")
            raise typer.Exit(INTERNAL_ERROR_EXIT) from None

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature; mypy cannot see it


def usage_message(exc: click.exceptions.ClickException) -> str:
    """``ITEM: REASON`` for a command-line mistake click found, naming the option or argument."""
    ctx = getattr(exc, "ctx", None)
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    if isinstance(exc, click.exceptions.NoSuchOption):
        suggest = f"; did you mean {', '.join(sorted(exc.possibilities))}?" if exc.possibilities else ""
        return f"{exc.option_name}: no such option{suggest}{hint}"
    if isinstance(exc, NoSuchCommand):
        return f"{exc.name}: no such command (commands: {', '.join(exc.commands)})"
    if isinstance(exc, click.exceptions.MissingParameter):
        param = exc.param
        kind = exc.param_type or (param.param_type_name if param is not None else "parameter")
        name = _param_name(param) if param is not None else kind
        return f"{name}: missing {kind}{hint}"
    if isinstance(exc, click.exceptions.BadParameter):
        named = exc.param_hint if isinstance(exc.param_hint, str) else None
        if named is None and exc.param is not None:
            named = _param_name(exc.param)
        return f"{named or 'argument'}: {_reason(exc.message)}{hint}"
    if isinstance(exc, click.exceptions.BadOptionUsage):
        reason = _reason(exc.message).replace(f"option {exc.option_name!r} ", "")
        return f"{exc.option_name}: {reason}{hint}"
    where = ctx.command_path if ctx is not None else "medsee"
    return f"{where}: {_reason(exc.format_message())}{hint if ctx is not None else ''}"


def _param_name(param: Any) -> str:
    if getattr(param, "param_type_name", "") == "option":
        return max(param.opts, key=len)
    return (param.metavar or param.name or "argument").strip("{}").upper()


def _reason(message: str) -> str:
    text = _one_line(message).rstrip(".")
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


class NoSuchCommand(click.exceptions.UsageError):
    """A sub-command name the group does not have."""

    def __init__(self, name: str, commands: Sequence[str], ctx: Any) -> None:
        super().__init__(f"no such command {name!r}", ctx)
        self.name = name
        self.commands = tuple(commands)


class MedseeGroup(TyperGroup):
    """The click group behind `medsee` and `medsee models`: one-line usage errors, exit 2."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            raise NoSuchCommand(name, self.list_commands(ctx), ctx)
        return super().resolve_command(ctx, args)

    def main(  # type: ignore[override]  # click overloads main() on standalone_mode; ours is one signature
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        code = self._run(args, prog_name, complete_var, **extra)
        if not standalone_mode:
            return code
        sys.exit(code)

    def _run(self, args: Sequence[str] | None, prog_name: str | None, complete_var: str | None, **extra: Any) -> int:
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            sys.stdout.flush()
        except click.exceptions.NoArgsIsHelpError:
            return ExitCode.USAGE  # typer printed the help already
        except click.exceptions.UsageError as exc:
            error_line(usage_message(exc))
            return ExitCode.USAGE
        except click.exceptions.ClickException as exc:  # e.g. a file click could not open
            error_line(exc.format_message())
            return exc.exit_code
        except typer.Abort:
            error_line("interrupted")
            return ExitCode.INTERRUPTED
        except BrokenPipeError:
            quiet_broken_pipe()
        return result if isinstance(result, int) else ExitCode.OK
