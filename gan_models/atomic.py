"""Atomic file writes: a file holds either its previous content or all of its new content, never part.

Every file gan-models writes (checkpoints, configs, logs, PNGs, .npy arrays, ONNX models) goes
through `atomic_write`, so a crash, a full disk or Ctrl-C part-way leaves the old file in place.
"""
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def temp_prefix(path: Path) -> str:
    """The name prefix of the temporary files `atomic_write(path)` creates beside `path` (hidden: ".<name>.")."""
    return f".{path.name}."


@contextmanager
def atomic_write(path: str | os.PathLike, *, durable: bool = False) -> Iterator[Path]:
    """Yield a new, empty temporary path beside `path` to write to; when the block ends, it replaces `path`.

    The temporary file lies in `path`'s folder (created if missing), so the final rename is atomic, and
    gets the permissions of any new file (the umask's), not the owner-only ones of `tempfile.mkstemp`.
    If the block raises (disk full, Ctrl-C), the temporary file is removed and `path` is untouched.
    With `durable`, the data and then the rename are fsynced, so they survive a power cut too.
    Only a SIGKILL can leave a temporary file behind: "<folder>/.<name>.*.tmp" (see `temp_prefix`).
    Raises IsADirectoryError (an OSError) for a path that names a folder ("", ".", "..").
    """
    path = Path(path)
    if path.name in ("", ".."):  # Path("") is ".", whose name is ""
        raise IsADirectoryError(f"{str(path)!r} is a folder, not a file name; give a file such as out.png")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=temp_prefix(path), suffix=TEMP_SUFFIX, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        yield tmp
        if durable:
            _fsync(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)  # after a failure; already gone after the rename
    if durable:
        _fsync(path.parent)  # the rename itself


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
