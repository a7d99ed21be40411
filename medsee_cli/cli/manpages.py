"""Generate man pages (roff) for `medsee` and each subcommand from the CLI's own definitions.

``python -m medsee_cli.cli.manpages man/`` rewrites the pages; a test regenerates them in a
temporary folder and fails when the committed pages have drifted from the CLI.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from medsee_cli import __version__


def _escape(text: str) -> str:
    lines = []
    for line in text.replace("\\", "\\e").splitlines():
        stripped = line.strip()
        if stripped.startswith((".", "'")):
            stripped = "\\&" + stripped
        lines.append(stripped)
    return "\n".join(lines).replace("-", "\\-")


def _paragraphs(text: str) -> str:
    blocks = [b.strip() for b in (text or "").split("\n\n") if b.strip()]
    return "\n.PP\n".join(_escape(" ".join(b.split())) for b in blocks)


def _option_lines(command: Any, ctx: Any) -> list[str]:
    lines: list[str] = []
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:
            if param.param_type_name == "argument":
                lines += [".TP", f".I {_escape(param.human_readable_name)}", "(argument)"]
            continue
        names, help_text = record
        lines += [".TP", f".B {_escape(names)}", _escape(" ".join(help_text.split())) or "\\&"]
    return lines


def render_page(path: list[str], command: Any) -> str:
    name = " ".join(path)
    ctx = command.context_class(command, info_name=name)
    usage = command.collect_usage_pieces(ctx)
    summary = (command.get_short_help_str(limit=200) or "").rstrip(".")
    lines = [
        f'.TH "{"-".join(path).upper()}" "1" "" "medsee {__version__}" "medsee manual"',
        ".SH NAME",
        f"{_escape('-'.join(path))} \\- {_escape(summary)}",
        ".SH SYNOPSIS",
        f".B {_escape(name)}",
        _escape(" ".join(usage)),
        ".SH DESCRIPTION",
        _paragraphs(command.help or ""),
    ]
    options = _option_lines(command, ctx)
    if options:
        lines += [".SH OPTIONS", *options]
    if hasattr(command, "list_commands"):
        lines += [".SH COMMANDS"]
        for sub_name in command.list_commands(ctx):
            sub = command.get_command(ctx, sub_name)
            if sub is not None:
                lines += [".TP", f".B {_escape(sub_name)}", _escape(sub.get_short_help_str(limit=200))]
    lines += [".SH SEE ALSO", "medsee(1)" if len(path) > 1 else "medsee\\-ingest(1), medsee\\-ask(1)"]
    return "\n".join(lines) + "\n"


def all_pages() -> dict[str, str]:
    from medsee_cli.cli.app import app

    root = typer.main.get_command(app)
    pages: dict[str, str] = {}

    def walk(path: list[str], command: Any) -> None:
        pages["-".join(path) + ".1"] = render_page(path, command)
        if hasattr(command, "list_commands"):
            ctx = command.context_class(command, info_name=path[-1])
            for sub_name in command.list_commands(ctx):
                sub = command.get_command(ctx, sub_name)
                if sub is not None:
                    walk(path + [sub_name], sub)

    walk(["medsee"], root)
    return pages


def write_pages(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in sorted(all_pages().items()):
        target = folder / name
        target.write_text(text)
        written.append(target)
    return written


if __name__ == "__main__":
    for page in write_pages(Path(sys.argv[1] if len(sys.argv) > 1 else "man")):
        print(page)
