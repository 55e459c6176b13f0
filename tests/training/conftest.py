"""Fixtures of the training tests: one warm process that forks real training processes, shared by the session."""
import pytest

from tests.helpers import ForkWorker


@pytest.fixture(scope="session")
def _fork_worker():
    client = ForkWorker()
    yield client
    client.close()


@pytest.fixture
def worker(_fork_worker):
    """The session's ForkWorker; a child that a test leaves running (it failed part-way) is killed after it."""
    yield _fork_worker
    _fork_worker.reap()
