"""Generate docs/cli.md from the Typer app, so the reference cannot drift from the code."""

from __future__ import annotations

import sys
from typing import Any

import typer

from salescope.cli.main import app


def _walk(cmd: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    found = [(path, cmd)]
    if hasattr(cmd, "commands"):
        for name in sorted(cmd.commands):
            found.extend(_walk(cmd.commands[name], [*path, name]))
    return found


def render() -> str:
    root = typer.main.get_command(app)
    lines = ["# CLI reference", "", "Generated from the code by `python -m salescope.cli.docs`; do not edit.", ""]
    for path, cmd in _walk(root, ["salescope"]):
        if hasattr(cmd, "commands") and len(path) > 1:
            continue
        ctx = cmd.context_class(cmd, info_name=" ".join(path))
        lines.append(f"## `{' '.join(path)}`")
        lines.append("")
        lines.append((cmd.help or "").strip().split("\n\n")[0])
        lines.append("")
        lines.append("```")
        lines.append(f"Usage: {' '.join(path)} " + " ".join(cmd.collect_usage_pieces(ctx)))
        for param in cmd.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None or record[0].startswith("--help"):
                continue
            lines.append(f"  {record[0]:<34} {record[1]}")
        lines.append("```")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(render())
