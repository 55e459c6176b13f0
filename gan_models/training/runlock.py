"""One training process per run folder: a lock file `<out>/.lock` holding the owner's PID and host.

Two trainers writing one checkpoint would silently interleave their steps, so the second one is
refused. The file is created with O_CREAT | O_EXCL, which the kernel makes atomic: of two
processes racing, exactly one creates it. A lock left by a process that no longer runs (killed
with SIGKILL, or the machine crashed) is stale: it is taken over, so `--resume` after a crash
just works. A lock from another host cannot be checked and is never taken over.
"""
import os
import socket
import time
from pathlib import Path

LOCK_NAME = ".lock"
# An owner writes its PID microseconds after creating the file; an empty lock older than this was
# left by a process killed in between.
EMPTY_LOCK_STALE_S = 5.0


class RunLockedError(RuntimeError):
    """Another live process (or one on another host) holds the run folder's lock."""


def _pid_alive(pid: int) -> bool:
    """Whether a process with this PID exists on this host and is not a zombie (killed, not yet reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):  # no /proc (macOS): trust kill()
        return True
    return state != "Z"


def _read_owner(path: Path) -> tuple[int, str] | None:
    """(pid, host) written in a lock file, or None if it is unreadable or half-written."""
    try:
        pid, host = path.read_text().split("\n")[:2]
        return int(pid), host
    except (OSError, ValueError):
        return None


class RunLock:
    """Exclusive ownership of a run folder while training; a context manager.

    Args:
        folder: the run folder; created if missing.

    Raises (on entering):
        RunLockedError: a live process, or any process on another host, holds the lock.
    """

    def __init__(self, folder: str | os.PathLike) -> None:
        self.path = Path(folder) / LOCK_NAME
        self.held = False

    def acquire(self) -> "RunLock":
        """Create the lock file, taking over a stale one; raises RunLockedError if it is held."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = f"{os.getpid()}\n{socket.gethostname()}\n"
        for attempt in range(5):  # a takeover that loses a race retries; five losses mean real contention
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._take_over_if_stale()
                time.sleep(0.01 * attempt)
                continue
            with os.fdopen(fd, "w") as file:
                file.write(me)
            self.held = True
            return self
        raise RunLockedError(f"{self.path.parent} is locked by several processes at once; try again")

    def _take_over_if_stale(self) -> None:
        """Remove the lock if its owner is dead; raise RunLockedError if it is alive (or unknowable)."""
        owner = _read_owner(self.path)
        if owner is None:
            # It vanished (its owner just released it), its owner is between O_EXCL and the write
            # (a retry decides), or that owner died in between (an old empty file: stale).
            try:
                if time.time() - self.path.stat().st_mtime > EMPTY_LOCK_STALE_S:
                    self._remove_stale(owner)
            except FileNotFoundError:
                pass
            return
        pid, host = owner
        if host != socket.gethostname():
            raise RunLockedError(f"{self.path.parent} is in use by process {pid} on host {host!r}; if that run is "
                                 f"over, delete {self.path}")
        if _pid_alive(pid):
            raise RunLockedError(f"{self.path.parent} is in use by another training (process {pid}); wait for it "
                                 "to finish, or choose another --out")
        self._remove_stale(owner)

    def _remove_stale(self, owner: tuple[int, str] | None) -> None:
        """Delete a lock file whose content is `owner`, without deleting a live lock that replaced it."""
        # Move the file aside first: rename is atomic, so of several processes taking over only
        # one gets this file; then make sure what it got is still the stale lock.
        aside = self.path.with_name(f"{LOCK_NAME}.stale.{os.getpid()}")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return  # another process took it over first; the retry sees its fresh lock
        if _read_owner(aside) != owner:  # a racer had already replaced the stale lock with its live one
            try:
                os.link(aside, self.path)  # put it back, unless yet another lock appeared meanwhile
            except FileExistsError:
                pass
        aside.unlink(missing_ok=True)

    def release(self) -> None:
        """Delete the lock file if this object holds it."""
        if self.held:
            if _read_owner(self.path) == (os.getpid(), socket.gethostname()):
                self.path.unlink()
            self.held = False

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
