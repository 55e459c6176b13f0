"""Atomic file writes: a file holds either its previous content or all of its new content, never part.

Every file gan-models writes (checkpoints, configs, logs, PNGs, .npy arrays, ONNX models) goes
through `atomic_write`, so a crash, a full disk or Ctrl-C part-way leaves the old file in place.
"""
import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def temp_prefix(path: Path) -> str:
    """The name prefix of the temporary files `atomic_write(path)` creates beside `path` (hidden: ".<name>.")."""
    return f".{path.name}."


def check_writable(path: str | os.PathLike) -> Path:
    """Raise the OSError that writing the file `path` would raise, now, before any long work; returns the path.

    Checks that `path` is not a folder, that its nearest existing ancestor is a folder (not a regular
    file), and that a file can be created there (by creating and removing one: permissions alone say
    nothing in /proc or on read-only mounts). Creates nothing that stays. The errors name `path`.
    """
    path = Path(path)
    if path.name in ("", "..") or path.is_dir():
        raise IsADirectoryError(f"{str(path)!r} is a folder, not a file name; give a file such as out.png")
    folder = path.parent
    while not folder.exists():  # ends at "." or "/", which exist
        folder = folder.parent
    if not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"cannot write {path}: {folder} is a file, not a folder")
    try:
        fd, name = tempfile.mkstemp(prefix=temp_prefix(path), suffix=TEMP_SUFFIX, dir=folder)
    except OSError as err:
        raise _naming(err, path) from None
    os.close(fd)
    os.unlink(name)
    return path


def _naming(err: OSError, path: Path) -> OSError:
    """`err` (same errno, so the same OSError subclass) reworded to name `path`, the file the user asked for."""
    return OSError(err.errno, f"cannot write {path}: {err.strerror or err}")


@contextmanager
def atomic_write(path: str | os.PathLike, *, durable: bool = False) -> Iterator[Path]:
    """Yield a new, empty temporary path beside `path` to write to; when the block ends, it replaces `path`.

    The temporary file lies in `path`'s folder (created if missing), so the final rename is atomic, and
    gets the permissions of any new file (the umask's), not the owner-only ones of `tempfile.mkstemp`.
    If the block raises (disk full, Ctrl-C), the temporary file is removed and `path` is untouched.
    With `durable`, the data and then the rename are fsynced, so they survive a power cut too.
    Only a SIGKILL can leave a temporary file behind: "<folder>/.<name>.*.tmp" (see `temp_prefix`).
    Raises IsADirectoryError (an OSError) for a path that names a folder ("", ".", ".."). OSErrors
    name `path`, never the temporary file: "[Errno 13] cannot write /proc/x.png: Permission denied".
    """
    path = Path(path)
    if path.name in ("", ".."):  # Path("") is ".", whose name is ""
        check_writable(path)  # raises IsADirectoryError
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=temp_prefix(path), suffix=TEMP_SUFFIX, dir=path.parent)
    except (FileExistsError, NotADirectoryError):  # a regular file where a folder should be
        check_writable(path)  # says which one
        raise
    except OSError as err:
        raise _naming(err, path) from None
    os.close(fd)
    tmp = Path(name)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        try:
            yield tmp
            if durable:
                _fsync(tmp)
            os.replace(tmp, path)
        except OSError as err:
            if err.filename not in (str(tmp), tmp):
                raise
            raise _naming(err, path) from None  # the user's name, not the hidden temporary one
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
