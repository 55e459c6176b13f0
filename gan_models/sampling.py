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
from gan_models.noise import interpolate_latents, sample_noise

LATENT_CHUNK = 4096  # latents are always drawn this many at a time, whatever the batch size
WALK_BATCH = 256  # latent walks go through the generator this many images at a time


def generate_batches(generator: GeneratorBase, n: int, seed: int = 0, batch_size: int = 256) -> Iterator[torch.Tensor]:
    """An iterator over `n` images as uint8 CPU batches (b, C, H, W), `batch_size` at a time, in eval mode.

    The latents come from one torch.Generator seeded with `seed`, drawn in fixed chunks of
    LATENT_CHUNK: image i is the same whatever n and batch_size are. Raises ValueError at once
    (not on first use) for n or batch_size < 1; iterating raises ValueError if G outputs NaN or inf.
    """
    if n < 1 or batch_size < 1:
        raise ValueError(f"n and batch_size must be >= 1, got n={n}, batch_size={batch_size}")
    return _batches(generator, n, seed, batch_size)


@torch.no_grad()
def _batches(generator: GeneratorBase, n: int, seed: int, batch_size: int) -> Iterator[torch.Tensor]:
    from gan_models.data import to_uint8

    device = next(generator.parameters()).device
    rng = torch.Generator().manual_seed(seed)
    with eval_mode(generator):
        for chunk_start in range(0, n, LATENT_CHUNK):
            latents = sample_noise(LATENT_CHUNK, generator.nz, generator.noise, generator=rng)[:n - chunk_start]
            for start in range(0, len(latents), batch_size):
                images = generator(latents[start:start + batch_size].to(device)).cpu()
                if not torch.isfinite(images).all():  # uint8 would hide it: NaN becomes a black pixel
                    raise ValueError("the generator produced NaN or inf values; its weights are probably diverged")
                yield to_uint8(images)


def generate(generator: GeneratorBase, n: int, seed: int = 0, batch_size: int = 256) -> torch.Tensor:
    """`n` images as uint8 (n, C, H, W), generated `batch_size` at a time in eval mode (see generate_batches).

    Memory holds one float batch plus the uint8 result (one byte per pixel), so large `n` is fine.
    """
    batches = generate_batches(generator, n, seed, batch_size)  # checks n before allocating
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


def save_npy(generator: GeneratorBase, n: int, path: str | os.PathLike, seed: int = 0, batch_size: int = 256) -> Path:
    """Write `n` images to a .npy file as uint8 (n, C, H, W), the same images `generate` returns.

    Streamed batch by batch, so memory holds one batch whatever `n` is; written to a temporary
    file and renamed, so `path` never holds half an array. Read with `np.load(path, mmap_mode="r")`.
    Raises OSError (ENOSPC) before writing when the array cannot fit in the free space of `path`'s disk.
    """
    path = Path(path)
    batches = generate_batches(generator, n, seed, batch_size)
    _check_space(path, n * math.prod(generator.image_shape))
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.uint8)), "fortran_order": False,
              "shape": (n, *generator.image_shape)}
    with atomic_write(path) as tmp, open(tmp, "wb") as file:
        np.lib.format.write_array_header_1_0(file, header)
        for batch in batches:
            file.write(batch.contiguous().numpy().tobytes())  # C order, as the header says
    return path


@torch.no_grad()
def latent_walks(generator: GeneratorBase, walks: int, frames: int = 8, seed: int = 0) -> torch.Tensor:
    """`walks` interpolations of `frames` images each between random latent pairs: (walks * frames, C, H, W) in [-1, 1].

    Row-major: one walk per row when tiled with nrow=frames.
    """
    if walks < 1:
        raise ValueError(f"walks must be >= 1, got {walks}")
    rng = torch.Generator().manual_seed(seed)
    ends = sample_noise(2 * walks, generator.nz, generator.noise, generator=rng)
    z = interpolate_latents(ends[:walks], ends[walks:], frames, generator.noise).reshape(walks * frames, generator.nz)
    device = next(generator.parameters()).device
    with eval_mode(generator):  # in batches: activations for 10,000 images at once would take gigabytes
        return torch.cat([generator(batch.to(device)).cpu() for batch in z.split(WALK_BATCH)])
