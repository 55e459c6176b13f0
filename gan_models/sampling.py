"""Drawing many images from a generator in bounded memory, and latent-space walks.

Every latent here is drawn on the CPU from a seeded torch.Generator, so a seed gives the same images
on every device; truncation (psi) is gan_models.noise.sample_noise's.
"""
import errno
import math
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from gan_models.atomic import atomic_write
from gan_models.nets.base import GeneratorBase, eval_mode
from gan_models.nets.labels import check_labels, refuse_labels, resolve_labels
from gan_models.noise import check_interpolation, check_truncation, interpolate_latents, sample_noise

LATENT_CHUNK = 4096  # latents are always drawn this many at a time, whatever the batch size
WALK_BATCH = 256  # latent walks go through the generator this many images at a time


def balanced_labels(n: int, num_classes: int) -> torch.Tensor:
    """Labels 0, 1, ..., K-1, 0, 1, ... for n images: int64 (n,), every class equally often (up to one)."""
    return torch.arange(n) % num_classes


def class_labels(generator: GeneratorBase, which: str, n: int) -> torch.Tensor:
    """The labels of `gan-models sample --class WHICH`: int64 (n,).

    `which` is a class name (any case), a class index ("7"), or "all": the n images in class order,
    every class equally often (up to one: the first n % K classes have one more), so n = 8 K gives
    rows of 8 per class. Raises ValueError for an unknown class, or for an unconditional generator.
    """
    if not generator.num_classes:
        raise ValueError("--class needs a conditional generator; this one is unconditional")
    if which.lower() == "all":
        return balanced_labels(n, generator.num_classes).sort(stable=True).values
    names = [name.lower() for name in generator.classes]
    label = int(which) if which.lower() not in names and which.lstrip("-").isdigit() else which
    return resolve_labels(label, n, generator.classes)


def generate_batches(generator: GeneratorBase, n: int, seed: int = 0, batch_size: int = 256,
                     labels: torch.Tensor | None = None, truncation: float | None = None) -> Iterator[torch.Tensor]:
    """An iterator over `n` images as uint8 CPU batches (b, C, H, W), `batch_size` at a time, in eval mode.

    The latents come from one CPU torch.Generator seeded with `seed`, drawn in fixed chunks of
    LATENT_CHUNK (truncated at `truncation` standard deviations, if given): image i is the same
    whatever n and batch_size are. A conditional generator draws image i of class labels[i]
    (int64 (n,)); without labels, of class i % num_classes (`balanced_labels`). Raises ValueError at
    once (not on first use) for n or batch_size < 1, labels that do not fit or a bad truncation;
    iterating raises ValueError if G outputs NaN or inf.
    """
    if n < 1 or batch_size < 1:
        raise ValueError(f"n and batch_size must be >= 1, got n={n}, batch_size={batch_size}")
    check_truncation(truncation)
    return _batches(generator, n, seed, batch_size, _labels_of(generator, n, labels), truncation)


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
def _batches(generator: GeneratorBase, n: int, seed: int, batch_size: int, labels: torch.Tensor | None,
             truncation: float | None) -> Iterator[torch.Tensor]:
    from gan_models.data import to_uint8

    weight = next(generator.parameters())
    rng = torch.Generator().manual_seed(seed)
    with eval_mode(generator):
        for chunk_start in range(0, n, LATENT_CHUNK):
            latents = sample_noise(LATENT_CHUNK, generator.nz, generator.noise, generator=rng,
                                   truncation=truncation)[:n - chunk_start]
            for start in range(0, len(latents), batch_size):
                inputs = [latents[start:start + batch_size].to(weight.device, weight.dtype)]
                if labels is not None:
                    first = chunk_start + start
                    inputs.append(labels[first:first + len(inputs[0])].to(weight.device))
                images = generator(*inputs).cpu().float()
                if not torch.isfinite(images).all():  # uint8 would hide it: NaN becomes a black pixel
                    raise ValueError("the generator produced NaN or inf values; its weights are probably diverged")
                yield to_uint8(images)


def generate(generator: GeneratorBase, n: int, seed: int = 0, batch_size: int = 256,
             labels: torch.Tensor | None = None, truncation: float | None = None) -> torch.Tensor:
    """`n` images as uint8 (n, C, H, W), generated `batch_size` at a time in eval mode (see generate_batches).

    Memory holds one float batch plus the uint8 result (one byte per pixel), so large `n` is fine.
    """
    batches = generate_batches(generator, n, seed, batch_size, labels, truncation)  # checks n before allocating
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
             labels: torch.Tensor | None = None, truncation: float | None = None) -> Path:
    """Write `n` images to a .npy file as uint8 (n, C, H, W), the same images `generate` returns (labels likewise).

    Streamed batch by batch, so memory holds one batch whatever `n` is; written to a temporary
    file and renamed, so `path` never holds half an array. Read with `np.load(path, mmap_mode="r")`.
    Raises OSError (ENOSPC) before writing when the array cannot fit in the free space of `path`'s disk.
    """
    path = Path(path)
    batches = generate_batches(generator, n, seed, batch_size, labels, truncation)
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
                 labels: torch.Tensor | None = None, method: str | None = None,
                 truncation: float | None = None) -> torch.Tensor:
    """`walks` interpolations of `frames` images each between random latent pairs: (walks * frames, C, H, W) in [-1, 1].

    Row-major: one walk per row when tiled with nrow=frames. A conditional generator walks
    within class labels[w] (int64 (walks,)); without labels, within class w % num_classes.
    `method` is "slerp" (the default for normal noise) or "linear" (gan_models.noise.interpolate_latents);
    the endpoints are truncated at `truncation` standard deviations if given.
    """
    if walks < 1:
        raise ValueError(f"walks must be >= 1, got {walks}")
    method = check_interpolation(generator.noise, method)
    labels = _labels_of(generator, walks, labels)
    if labels is not None:
        labels = labels.repeat_interleave(frames)  # (walks * frames,), one class per walk
    rng = torch.Generator().manual_seed(seed)
    ends = sample_noise(2 * walks, generator.nz, generator.noise, generator=rng, truncation=truncation)
    z = interpolate_latents(ends[:walks], ends[walks:], frames, generator.noise, method)
    return _run(generator, z.reshape(walks * frames, generator.nz), labels)


def seed_latents(generator: GeneratorBase, seeds: Sequence[int], truncation: float | None = None) -> torch.Tensor:
    """The latent `generator.sample(1, seed=s, truncation=...)` draws for each seed s: (len(seeds), nz), CPU float32."""
    return torch.cat([sample_noise(1, generator.nz, generator.noise, generator=torch.Generator().manual_seed(seed),
                                   truncation=truncation) for seed in seeds])


@torch.no_grad()
def walk(generator: GeneratorBase, seeds: Sequence[int], labels=None, frames: int = 8, method: str | None = None,
         truncation: float | None = None) -> torch.Tensor:
    """One walk through chosen stops: ((S - 1) * (frames - 1) + 1, C, H, W) in [-1, 1], S stops, endpoints included.

    Stop i is the image `generator.sample(1, seed=seeds[i], labels=labels[i])` (with `truncation`);
    each leg between two stops has `frames` images, sharing its ends with the legs around it. z
    moves by `method` ("slerp" by default for normal noise, or "linear"). For a conditional
    generator, `labels` is one class (index or name) for the whole walk, or one per stop; between
    two classes the label embedding moves along the straight line, so one seed walked from "3" to
    "8" morphs a three into an eight in one style. A single seed stands for every stop.

    Raises:
        ValueError: fewer than 2 stops, `seeds` and `labels` of different lengths, labels for an
            unconditional generator (or none for a conditional one), or frames < 2.
    """
    method = check_interpolation(generator.noise, method)
    if frames < 2:
        raise ValueError(f"frames must be >= 2, got {frames}")
    seeds, labels = list(seeds), _stop_labels(generator, labels)
    if not seeds:
        raise ValueError("a walk needs at least one seed")
    classes = 1 if labels is None else len(labels)
    if len(seeds) > 1 and classes > 1 and len(seeds) != classes:
        raise ValueError(f"give one seed, or one per stop: {len(seeds)} seeds for {classes} classes")
    stops = max(len(seeds), classes)
    if stops < 2:
        raise ValueError(f"a walk needs at least 2 stops (seeds or classes), got {stops}")
    seeds = seeds * stops if len(seeds) == 1 else seeds
    labels = labels.expand(stops) if labels is not None and classes == 1 else labels
    ends = seed_latents(generator, seeds, truncation)  # (S, nz)
    z = _path(interpolate_latents(ends[:-1], ends[1:], frames, generator.noise, method))
    if labels is None:
        return _run(generator, z, None)
    codes = generator.embed(labels.to(generator.embed.weight.device)).cpu()  # (S, embed_dim), the learned E[y]
    codes = _path(interpolate_latents(codes[:-1], codes[1:], frames, "uniform", "linear"))
    return _run(generator, z, None, codes)


def _stop_labels(generator: GeneratorBase, labels) -> torch.Tensor | None:
    """A walk's labels as int64 (1,) or (S,): one class or one per stop; None for an unconditional generator."""
    if not generator.num_classes:
        refuse_labels(labels, "generator")
        return None
    if labels is None:
        raise ValueError("this generator is conditional: pass labels, one class for the walk or one per stop")
    if isinstance(labels, (str, int)) or (isinstance(labels, torch.Tensor) and labels.dim() == 0):
        return resolve_labels(labels, 1, generator.classes)
    return resolve_labels(labels, len(labels), generator.classes)


def _path(legs: torch.Tensor) -> torch.Tensor:
    """Legs (S - 1, frames, D) whose last frame is the next leg's first, as one path ((S - 1) * (frames - 1) + 1, D)."""
    return torch.cat([legs[:, :-1].reshape(-1, legs.shape[-1]), legs[-1, -1:]])


def _run(generator: GeneratorBase, z: torch.Tensor, labels: torch.Tensor | None,
         codes: torch.Tensor | None = None) -> torch.Tensor:
    """G(z) (or G(z, labels), or a conditional G's body on [z, codes]) in eval mode, WALK_BATCH latents at a time
    (activations for 10,000 images at once would take gigabytes): (N, C, H, W) float32 on the CPU."""
    weight = next(generator.parameters())
    outputs = []
    with eval_mode(generator):
        for start in range(0, len(z), WALK_BATCH):
            batch = z[start:start + WALK_BATCH].to(weight.device, weight.dtype)
            if codes is not None:  # a label between two classes: what ConditionalGenerator.forward does after E[y]
                code = codes[start:start + WALK_BATCH].to(weight.device, weight.dtype)
                images = generator.body.generate(torch.cat([batch, code], dim=1))
            elif labels is not None:
                images = generator(batch, labels[start:start + WALK_BATCH].to(weight.device))
            else:
                images = generator(batch)
            outputs.append(images.cpu().float())
    return torch.cat(outputs)
