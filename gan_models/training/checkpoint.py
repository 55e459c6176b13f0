"""Checkpoints: one file holding a whole training state, written atomically and loaded safely.

A checkpoint is a plain dict of tensors, numbers and strings (so `torch.load(weights_only=True)`
reads it without running code), tagged {"format": "gan-models-checkpoint", "version": 1}; what a
training run stores in it is listed in gan_models.training.rundir.

Writes go to a temporary file in the same folder, are fsynced, then renamed over the old file:
a crash at any moment leaves either the previous checkpoint or the new one, never half of one.
"""
import hashlib
import io
import os
from pathlib import Path

import torch

from gan_models.atomic import TEMP_SUFFIX, atomic_write, temp_prefix
from gan_models.errors import first_line
from gan_models.nets.base import GeneratorBase
from gan_models.registry import build_generator

FORMAT = "gan-models-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A file is not a readable gan-models checkpoint (missing, truncated, foreign or unsafe)."""


def save_checkpoint(state: dict, path: str | os.PathLike) -> Path:
    """Atomically write `state` (plus format and version tags) to `path`; returns the path.

    Raises OSError if the folder is unwritable or full; the previous file at `path` is then untouched.
    """
    path = Path(path)
    try:
        with atomic_write(path, durable=True) as tmp, open(tmp, "wb") as file:
            torch.save({"format": FORMAT, "version": VERSION, **state}, file)
    except OSError as err:
        raise _write_error(path, err) from None
    return path


def _write_error(path: Path, err: OSError) -> OSError:
    """The OSError a person sees: which checkpoint, why, and that the previous one is intact."""
    previous = "the previous checkpoint is untouched" if path.exists() else "no checkpoint was written"
    reason = str(err.strerror or err).removeprefix(f"cannot write {path}: ")  # atomic_write's errors name the path
    return OSError(err.errno, f"cannot write checkpoint {path}: {reason}; {previous}")


def remove_partial_writes(path: str | os.PathLike) -> list[Path]:
    """Delete temporary files a killed `save_checkpoint(..., path)` left beside `path`; returns them.

    Only call this while no other process can be writing that checkpoint (the trainer holds the
    run folder's lock); the checkpoint itself is never touched.
    """
    path = Path(path)
    leftovers = sorted(path.parent.glob(f"{temp_prefix(path)}*{TEMP_SUFFIX}")) if path.parent.is_dir() else []
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    return leftovers


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    """Read a checkpoint written by `save_checkpoint`, refusing anything else.

    Uses `torch.load(..., weights_only=True)`, so a file carrying pickled code is rejected without
    running it. Raises CheckpointError (one clear line) for a missing, truncated, foreign or unsafe file.
    """
    return _read_checkpoint(Path(path), map_location)[0]


def load_checkpoint_and_sha256(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> tuple[dict, str]:
    """`load_checkpoint`, plus the hex SHA-256 of the file, from one read of it.

    The hash is of the very bytes loaded, even if the file is replaced in between (a running
    training rewrites its checkpoint every epoch). Raises CheckpointError as `load_checkpoint` does.
    """
    state, data = _read_checkpoint(Path(path), map_location)
    return state, hashlib.sha256(data).hexdigest()


def _read_checkpoint(path: Path, map_location: str | torch.device) -> tuple[dict, bytes]:
    """The checked checkpoint state at `path` and the file's bytes it was loaded from."""
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    data = path.read_bytes()
    try:
        state = torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except Exception as err:  # torch.load on arbitrary bytes can fail in any way; all mean "unreadable"
        raise CheckpointError(f"cannot read checkpoint {path}: truncated, corrupt or not a safe torch file "
                              f"({first_line(err)})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a gan-models checkpoint")
    if state.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {state.get('version')}; this gan-models reads {VERSION}")
    return state, data


def generator_from_state(state: dict, use_ema: bool = True) -> GeneratorBase:
    """The generator of a loaded checkpoint dict, in eval mode on the CPU.

    With `use_ema` (the default) the exponential-moving-average generator is returned when the
    checkpoint has one, else the raw generator.
    """
    generator = build_generator(state["model"], **state["generator_kwargs"])
    weights = state["ema_generator"] if use_ema and state.get("ema_generator") is not None else state["generator"]
    generator.load_state_dict(weights)
    return generator.eval()
