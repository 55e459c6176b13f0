"""Ctrl-C and SIGTERM during training: a request to stop at the next step boundary, not an exception mid-step."""
import signal
import threading


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped training after a checkpoint of the last finished step was saved."""


class StopSignals:
    """While entered, SIGINT and SIGTERM set `received` instead of interrupting; the previous handlers return on exit.

    Handlers can only be installed from the main thread; elsewhere (a trainer run in a worker
    thread) this does nothing and the signals keep their usual effect.
    """

    def __init__(self) -> None:
        self.received: int | None = None  # the signal number, once one arrived
        self._previous: dict = {}

    def _record(self, signum, frame) -> None:
        self.received = signum

    def __enter__(self) -> "StopSignals":
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._record) for sig in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
