"""Errors an app logs while it loads: the seeds' failed import was logged, then swallowed.

with LoggedErrors() as logged:
    importlib.import_module("app.main")
for line in logged.lines(): print(line)
"""

from __future__ import annotations

import logging
from types import TracebackType

MAX_RECORDS = 50  # an app that logs errors in a loop must not fill memory


class LoggedErrors(logging.Handler):
    """Keeps the ERROR and CRITICAL records of every logger that reaches the root logger."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self.dropped = 0
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.records) < MAX_RECORDS:
            self.records.append(record)
        else:
            self.dropped += 1

    def start(self) -> LoggedErrors:
        logging.getLogger().addHandler(self)
        return self

    def stop(self) -> None:
        logging.getLogger().removeHandler(self)

    def __enter__(self) -> LoggedErrors:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def lines(self, with_tracebacks: bool = True) -> list[str]:
        """Each record as the app's log would show it; its traceback too, or its last line."""
        out = []
        for record in self.records:
            text = self.format(record)
            if not with_tracebacks:
                text = _summary(record)
            out.append(text)
        if self.dropped:
            out.append(f"... and {self.dropped} more")
        return out


def _summary(record: logging.LogRecord) -> str:
    """`LEVEL logger: message (ExceptionType: text)` on one line."""
    text = f"{record.levelname} {record.name}: {record.getMessage()}"
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        text += f" ({type(error).__name__}: {error})"
    return " ".join(text.split())
