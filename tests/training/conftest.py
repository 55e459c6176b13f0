"""Fixtures of the training tests: one warm process that forks real training processes, shared by the session."""
import pytest

from tests.helpers import ForkWorker


@pytest.fixture(scope="session")
def worker():
    client = ForkWorker()
    yield client
    client.close()
