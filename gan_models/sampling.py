"""Drawing many images from a generator in bounded memory, and latent-space walks."""
import errno
import math
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from gan_models.atomic import atomic_write
from gan_models.nets.base import GeneratorBase, eval_mode
from gan_models.nets.labels import check_labels, refuse_labels, resolve_labels
from gan_models.noise import interpolate_latents, sample_noise

LATENT_CHUNK = 4096  # latents are always drawn this many at a time, whatever the batch size
WALK_BATCH = 256  # latent walks go through the generator this many images at a time


def balanced_labels(n: int, num_classes: int) -> torch.Tensor:
    """Labels 0, 1, ..., K-1, 0, 1, ... for n images: int64 (n,), every class equally often (up to one)."""
    return torch.arange(n) % num_classes


def class_labels(generator: GeneratorBase, which: str, n: int) -> torch.Tensor:
    """The labels of `gan-models sample --class WHICH`: int64 (n,), or (K * max(1, n // K),) for "all".

    `which` is a class name (any case), a class index ("7"), or "all": one row of n // K images
    (at least one) per class, in class order. Raises ValueError for an unknown class, or for an
    unconditional generator.
    """
    if not generator.num_classes:
        raise ValueError("--class needs a conditional generator; this one is unconditional")
    if which.lower() == "all":
        return torch.arange(generator.num_classes).repeat_interleave(max(1, n // generator.num_classes))
    names = [name.lower() for name in generator.classes]
    label = int(which) if which.lower() not in names and which.lstrip("-").isdigit() else which
    return resolve_labels(label, n, generator.classes)


def generate_batches(generator: GeneratorBase, n: int, seed: int = 0, batch_size: int = 256,
                     labels: torch.Tensor | None = None) -> Iterator[torch.Tensor]:
    """An iterator over `n` images as uint8 CPU batches (b, C, H, W), `batch_size` at a time, in eval mode.

    The latents come from one torch.Generator seeded with `seed`, drawn in fixed chunks of
    LATENT_CHUNK: image i is the same whatever n and batch_size are. A conditional generator draws
    image i of class labels[i] (int64 (n,)); without labels, of class i % num_classes
    (`balanced_labels`). Raises ValueError at once (not on first use) for n or batch_size < 1 or
    labels that do not fit; iterating raises ValueError if G outputs NaN or inf.
    """
    if n < 1 or batch_size < 1:
        raise ValueError(f"n and batch_size must be >= 1, got n={n}, batch_size={batch_size}")
    return _batches(generator, n, seed, batch_size, _labels_of(generator, n, labels))


def _labels_of(generator: GeneratorBase, n: int, labels: torch.Tensor | None) -> torch.Tensor | None:
    """The labels (n,) of n images: `labels` checked, or `balanced_labels` when None; None for an unconditional
    generator, which refuses labels (ValueError)."""
    if not generator.num_classes:
        refuse_labels(labels, "generator")
        return None
    labels = balanced_labels(n, generator.num_classes) if labels is None else labels
    check_labels(labels, n, generator.num_classes)
    return labels


@torch.no_grad()
def _batches(generator: GeneratorBase, n: int, seed: int, batch_size: int,
             labels: torch.Tensor | None) -> Iterator[torch.Tensor]:
    from gan_models.data import to_uint8

    device = next(generator.parameters()).device
    rng = torch.Generator().manual_seed(seed)
    with eval_mode(generator):
        for chunk_start in range(0, n, LATENT_CHUNK):
            latents = sample_noise(LATENT_CHUNK, generator.nz, generator.noise, generator=rng)[:n - chunk_start]
            for start in range(0, len(latents), batch_size):
                inputs = [latents[start:start + batch_size].to(device)]
                if labels is not None:
                    first = chunk_start + start
                    inputs.append(labels[first:first + len(inputs[0])].to(device))
                images = generator(*inputs).cpu()
                if not torch.isfinite(images).all():  # uint8 would hide it: NaN becomes a black pixel
                    raise ValueError("the generator produced NaN or inf values; its weights are probably diverged")
                yield to_uint8(images)


def generate(generator: GeneratorBase, n: int, seed: int = 0, batch_size: int = 256,
             labels: torch.Tensor | None = None) -> torch.Tensor:
    """`n` images as uint8 (n, C, H, W), generated `batch_size` at a time in eval mode (see generate_batches).

    Memory holds one float batch plus the uint8 result (one byte per pixel), so large `n` is fine.
    """
    batches = generate_batches(generator, n, seed, batch_size, labels)  # checks n before allocating
    out = torch.empty((n, *generator.image_shape), dtype=torch.uint8)
    start = 0
    for batch in batches:
        out[start:start + len(batch)] = batch
        start += len(batch)
    return out


def _check_space(path: Path, size: int) -> None:
    """Raise OSError (ENOSPC) naming `path` if its file system has fewer than `size` bytes free, before writing."""
    folder = path.parent
    while not folder.exists():  # the folders atomic_write will create
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    if size > free:
        raise OSError(errno.ENOSPC, f"cannot write {path}: the images take {size:,} bytes and only {free:,} are free "
                                    f"there; ask for fewer")


def save_npy(generator: GeneratorBase, n: int, path: str | os.PathLike, seed: int = 0, batch_size: int = 256,
             labels: torch.Tensor | None = None) -> Path:
    """Write `n` images to a .npy file as uint8 (n, C, H, W), the same images `generate` returns (labels likewise).

    Streamed batch by batch, so memory holds one batch whatever `n` is; written to a temporary
    file and renamed, so `path` never holds half an array. Read with `np.load(path, mmap_mode="r")`.
    Raises OSError (ENOSPC) before writing when the array cannot fit in the free space of `path`'s disk.
    """
    path = Path(path)
    batches = generate_batches(generator, n, seed, batch_size, labels)
    _check_space(path, n * math.prod(generator.image_shape))
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.uint8)), "fortran_order": False,
              "shape": (n, *generator.image_shape)}
    with atomic_write(path) as tmp, open(tmp, "wb") as file:
        np.lib.format.write_array_header_1_0(file, header)
        for batch in batches:
            file.write(batch.contiguous().numpy().tobytes())  # C order, as the header says
    return path


@torch.no_grad()
def latent_walks(generator: GeneratorBase, walks: int, frames: int = 8, seed: int = 0,
                 labels: torch.Tensor | None = None) -> torch.Tensor:
    """`walks` interpolations of `frames` images each between random latent pairs: (walks * frames, C, H, W) in [-1, 1].

    Row-major: one walk per row when tiled with nrow=frames. A conditional generator walks
    within class labels[w] (int64 (walks,)); without labels, within class w % num_classes.
    """
    if walks < 1:
        raise ValueError(f"walks must be >= 1, got {walks}")
    labels = _labels_of(generator, walks, labels)
    if labels is not None:
        labels = labels.repeat_interleave(frames)  # (walks * frames,), one class per walk
    rng = torch.Generator().manual_seed(seed)
    ends = sample_noise(2 * walks, generator.nz, generator.noise, generator=rng)
    z = interpolate_latents(ends[:walks], ends[walks:], frames, generator.noise).reshape(walks * frames, generator.nz)
    device = next(generator.parameters()).device
    with eval_mode(generator):  # in batches: activations for 10,000 images at once would take gigabytes
        if labels is None:
            return torch.cat([generator(batch.to(device)).cpu() for batch in z.split(WALK_BATCH)])
        return torch.cat([generator(batch.to(device), y.to(device)).cpu()
                          for batch, y in zip(z.split(WALK_BATCH), labels.split(WALK_BATCH), strict=True)])
