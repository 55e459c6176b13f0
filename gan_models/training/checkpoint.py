"""Checkpoints: one file holding a whole training state, written atomically, loaded safely and checked.

A checkpoint is a plain dict of tensors, numbers and strings (so `torch.load(weights_only=True)`
reads it without running code), tagged {"format": "gan-models-checkpoint", "version": 2}; what a
training run stores in it is listed in gan_models.training.rundir. Version 1 files load too
(gan_models.training.upgrade). On disk, a checkpoint with a "config" keeps the conditional flag there
alone; loading puts it back into "generator_kwargs", so that those are always `build_generator`'s keywords.

Writes go to a temporary file in the same folder, are fsynced, then renamed over the old file:
a crash or a full disk at any moment leaves either the previous checkpoint or the new one, never half of one.
Reads check every archive member against its CRC-32 (torch.load does not), so a flipped bit is refused,
and check that the entries sampling (or resuming) needs are there, so a file lacking one is one clear error.
"""
import hashlib
import io
import os
import zipfile
from pathlib import Path

import torch

from gan_models.atomic import TEMP_SUFFIX, atomic_write, temp_prefix
from gan_models.errors import first_line
from gan_models.nets.base import GeneratorBase
from gan_models.registry import build_generator
from gan_models.training.upgrade import upgrade_checkpoint

FORMAT = "gan-models-checkpoint"
VERSION = 2
READS = (1, 2)  # the versions this gan-models loads

# Entries, with their types, of every checkpoint: what sample, export, evaluate and validate use.
GENERATOR_ENTRIES = {"model": str, "generator_kwargs": dict, "generator": dict}
# What resuming a run needs besides (and "ema_generator" when its config has ema_decay > 0).
TRAINING_ENTRIES = {"dataset": str, "num_images": int, "config": dict, "step": int, "discriminator": dict,
                    "optimizer_g": dict, "optimizer_d": dict, "fixed_noise": torch.Tensor}


class CheckpointError(ValueError):
    """A file is not a usable gan-models checkpoint (missing, truncated, corrupt, foreign, incomplete or unsafe)."""


class _ErrorKeepingWriter:
    """The file torch.save writes to, keeping the first OSError, which torch replaces with C++ text naming no file."""

    def __init__(self, file) -> None:
        self.file, self.error = file, None

    def write(self, data) -> int:
        try:
            return self.file.write(data)
        except OSError as err:
            self.error = self.error or err
            raise

    def flush(self) -> None:
        self.file.flush()


def save_checkpoint(state: dict, path: str | os.PathLike) -> Path:
    """Atomically write `state` (plus format and version tags) to `path`; returns the path.

    Raises OSError naming `path` if the folder is unwritable or the disk full; the previous file at
    `path` is then untouched, and the message says so.
    """
    path = Path(path)
    kwargs = state.get("generator_kwargs")
    if isinstance(state.get("config"), dict) and isinstance(kwargs, dict) and "conditional" in kwargs:
        kwargs = dict(kwargs)
        flag = kwargs.pop("conditional")
        assert flag == state["config"].get("conditional", False), "generator_kwargs contradict the config"
        state = {**state, "generator_kwargs": kwargs}  # the config holds the flag (see the module docstring)
    try:
        with atomic_write(path, durable=True) as tmp, open(tmp, "wb") as file:
            writer = _ErrorKeepingWriter(file)
            try:
                torch.save({"format": FORMAT, "version": VERSION, **state}, writer)
            except RuntimeError:  # "[enforce fail at inline_container.cc...] unexpected pos" after a failed write
                if writer.error is None:
                    raise
                raise writer.error from None
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


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu", *,
                    training: bool = False) -> dict:
    """Read a checkpoint written by `save_checkpoint`, refusing anything else.

    Uses `torch.load(..., weights_only=True)`, so a file carrying pickled code is rejected without
    running it. Raises CheckpointError (one clear line naming the file) for a missing, truncated,
    corrupt, foreign or unsafe file, or one lacking an entry a generator needs (GENERATOR_ENTRIES), or
    with `training`, one that resuming needs (TRAINING_ENTRIES).
    """
    return _read_checkpoint(Path(path), map_location, training)[0]


def load_checkpoint_and_sha256(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> tuple[dict, str]:
    """`load_checkpoint`, plus the hex SHA-256 of the file, from one read of it.

    The hash is of the very bytes loaded, even if the file is replaced in between (a running
    training rewrites its checkpoint every epoch). Raises CheckpointError as `load_checkpoint` does.
    """
    state, data = _read_checkpoint(Path(path), map_location, training=False)
    return state, hashlib.sha256(data).hexdigest()


def _read_checkpoint(path: Path, map_location: str | torch.device, training: bool) -> tuple[dict, bytes]:
    """The checked checkpoint state at `path` (in the current version's form) and the file's bytes it came from."""
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    data = path.read_bytes()
    damaged = _damaged_member(data)
    if damaged is not None:
        raise CheckpointError(f"cannot read checkpoint {path}: corrupt ({damaged} does not match the checksum "
                              "stored when it was written); it was damaged since, so use another copy")
    try:
        state = torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except Exception as err:  # torch.load on arbitrary bytes can fail in any way; all mean "unreadable"
        raise CheckpointError(f"cannot read checkpoint {path}: truncated, corrupt or not a safe torch file "
                              f"({_load_failure(err)})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a gan-models checkpoint")
    if state.get("version") not in READS:
        raise CheckpointError(f"{path} has checkpoint version {state.get('version')}; this gan-models reads "
                              f"{', '.join(map(str, READS))}")
    try:
        state = upgrade_checkpoint(state, state["version"])
    except ValueError as err:
        raise CheckpointError(f"{path} is not a consistent gan-models checkpoint: {err}") from None
    problem = _structure_problem(state, training)
    if problem:
        raise CheckpointError(f"{path} is not a complete gan-models checkpoint: {problem}")
    if isinstance(state.get("config"), dict) and state["config"].get("conditional"):
        state["generator_kwargs"] = {**state["generator_kwargs"], "conditional": True}
    return state, data


def _damaged_member(data: bytes) -> str | None:
    """The first member of the zip archive `data` whose bytes fail their CRC-32, or None if all pass or it is no zip.

    A file that is no zip at all (truncated, foreign) is left to torch.load to refuse.
    """
    buffer = io.BytesIO(data)
    if not zipfile.is_zipfile(buffer):
        return None
    try:
        with zipfile.ZipFile(buffer) as archive:
            bad = archive.testzip()  # reads every member, checking it against its CRC-32
    except Exception:  # a damaged header or directory can fail in many ways
        return "its archive directory"
    return None if bad is None else f"its member {bad}"


def _load_failure(err: Exception) -> str:
    """torch.load's error in one line, without its advice to retry with weights_only=False: for a file that
    carries code, that is the one unsafe step."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    if lines and lines[0].startswith("Weights only load failed"):
        return next((line for line in lines[1:] if "weights_only" not in line), "it holds more than tensors")
    return first_line(err)


def _structure_problem(state: dict, training: bool) -> str | None:
    """What the checkpoint dict lacks for a generator (or, with `training`, for resuming), or None."""
    entries = {**GENERATOR_ENTRIES, **(TRAINING_ENTRIES if training else {})}
    for key, kind in entries.items():
        if key not in state:
            return f"it has no {key!r} entry"
        if not isinstance(state[key], kind):
            return f"its {key!r} entry is a {type(state[key]).__name__}, not a {kind.__name__}"
    ema, decay = state.get("ema_generator"), state.get("config", {}).get("ema_decay", 0) if training else 0
    if (ema is not None or decay) and not isinstance(ema, dict):
        return (f"its 'ema_generator' entry is a {type(ema).__name__}, not a dict"
                + (f" (the run keeps an EMA generator, ema_decay={decay})" if decay else ""))
    return None


def generator_from_state(state: dict, use_ema: bool = True) -> GeneratorBase:
    """The generator of a loaded checkpoint dict, in eval mode on the CPU.

    With `use_ema` (the default) the exponential-moving-average generator is returned when the
    checkpoint has one, else the raw generator.
    """
    generator = build_generator(state["model"], **state["generator_kwargs"])
    weights = state["ema_generator"] if use_ema and state.get("ema_generator") is not None else state["generator"]
    generator.load_state_dict(weights)
    return generator.eval()
