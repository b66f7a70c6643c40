"""Progress reporting without a terminal: services call these hooks; adapters draw them."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, task: str, total: float | None = None) -> None: ...

    def advance(self, task: str, amount: float = 1.0) -> None: ...

    def finish(self, task: str) -> None: ...


class NoProgress:
    """The default for notebooks and tests: progress is ignored."""

    def start(self, task: str, total: float | None = None) -> None:
        return None

    def advance(self, task: str, amount: float = 1.0) -> None:
        return None

    def finish(self, task: str) -> None:
        return None
