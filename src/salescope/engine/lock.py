"""Who holds a workspace: ``salescope serve`` leaves a lock file naming its pid and URL.

DuckDB allows one writing process per file; checking the lock first lets a CLI
command say in one sentence why it cannot write instead of surfacing a lock error.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from salescope.errors import WorkspaceBusyError

LOCK_NAME = "serve.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def holder(workspace: Path) -> dict[str, object] | None:
    path = workspace / LOCK_NAME
    if not path.exists():
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        pid = int(info["pid"])
    except (ValueError, KeyError, OSError):
        return None
    if pid == os.getpid() or not _alive(pid):
        return None
    return dict(info)


def ensure_free(workspace: Path) -> None:
    info = holder(workspace)
    if info is not None:
        raise WorkspaceBusyError(
            f"The workspace {workspace} is held by `salescope serve` (pid {info['pid']}, "
            f"{info.get('url', '')}); stop the server or do this through the web app."
        )


def acquire(workspace: Path, url: str) -> Path:
    ensure_free(workspace)
    path = workspace / LOCK_NAME
    path.write_text(json.dumps({"pid": os.getpid(), "url": url}), encoding="utf-8")
    return path


def release(workspace: Path) -> None:
    path = workspace / LOCK_NAME
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        if int(info.get("pid", -1)) == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass
