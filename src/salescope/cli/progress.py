"""Rich progress bars on stderr, implementing the services' Progress hooks."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

LABELS = {
    "generate": "生成演示数据 generating demo data",
    "import": "导入 importing files",
    "analyze": "分析 analysing",
}


class RichProgress:
    def __init__(self, console: Console, enabled: bool = True) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
            disable=not enabled,
        )
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def start(self, task: str, total: float | None = None) -> None:
        label = LABELS.get(task, task)
        if task in self._tasks:
            self._progress.reset(self._tasks[task], total=total, description=label)
        else:
            self._tasks[task] = self._progress.add_task(label, total=total)

    def advance(self, task: str, amount: float = 1.0) -> None:
        if task not in self._tasks:
            self.start(task)
        self._progress.advance(self._tasks[task], amount)

    def finish(self, task: str) -> None:
        if task in self._tasks:
            t = self._tasks[task]
            total = next(x.total for x in self._progress.tasks if x.id == t)
            if total is not None:
                self._progress.update(t, completed=total)
