"""Minibatches of in-memory uint8 images (and their labels), shuffled by (seed, epoch), for training.

Kept apart from gan_models.data, which loads the images: the trainer batches any uint8 tensor.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from gan_models.data import to_unit_range
from gan_models.noise import as_seed

if TYPE_CHECKING:
    import torch


class ImageBatches:
    """Shuffled minibatches of in-memory uint8 images, yielded as float (B, C, H, W) in [-1, 1].

    With `labels`, each batch comes with its images' labels: (images, labels int64 (B,)).

    The order depends only on (seed, epoch), like torch's DistributedSampler, so a resumed run sees
    exactly the batches an uninterrupted one would. With world_size > 1 each rank takes every
    world_size-th index of the shuffled order (all ranks yield the same number of batches).

    Args:
        images: uint8 (N, C, H, W).
        labels: optional int64 (N,), the class of each image (for conditional GANs).
        batch_size: images per batch on this rank.
        shuffle: reshuffle every epoch.
        drop_last: drop the final incomplete batch (keeps BatchNorm statistics and throughput even).
        seed: base seed of the shuffle.
        rank, world_size: this process's share in data-parallel training.
    """

    def __init__(self, images: torch.Tensor, batch_size: int, *, labels: torch.Tensor | None = None,
                 shuffle: bool = True, drop_last: bool = True, seed: int = 0, rank: int = 0,
                 world_size: int = 1) -> None:
        import torch

        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError(f"images must be a uint8 tensor (N, C, H, W), got {images.dtype} {tuple(images.shape)}")
        if labels is not None and (labels.dtype != torch.int64 or tuple(labels.shape) != (len(images),)):
            raise ValueError(f"labels must be an int64 tensor ({len(images)},), one per image, "
                             f"got {labels.dtype} {tuple(labels.shape)}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if not 0 <= rank < world_size:
            raise ValueError(f"need 0 <= rank < world_size, got rank={rank}, world_size={world_size}")
        per_rank = len(images) // world_size
        if (per_rank < batch_size if drop_last else per_rank < 1):
            raise ValueError(f"{len(images)} images are too few for batch_size {batch_size} "
                             f"on {world_size} process(es)")
        self.images, self.labels, self.batch_size = images, labels, batch_size
        self.shuffle, self.drop_last = shuffle, drop_last
        self.seed, self.rank, self.world_size = seed, rank, world_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose shuffle the next iteration uses."""
        self.epoch = epoch

    def _indices(self) -> torch.Tensor:
        import torch

        n = len(self.images)
        if self.shuffle:
            order = torch.randperm(n, generator=torch.Generator().manual_seed(as_seed(self.seed + self.epoch)))
        else:
            order = torch.arange(n)
        per_rank = n // self.world_size
        return order[self.rank::self.world_size][:per_rank]

    def __len__(self) -> int:
        per_rank = len(self.images) // self.world_size
        return per_rank // self.batch_size if self.drop_last else -(-per_rank // self.batch_size)

    def __iter__(self):
        return self.iterate()

    def iterate(self, start_batch: int = 0):
        """Yield this epoch's batches from batch number `start_batch` on (to resume mid-epoch)."""
        indices = self._indices()
        for start in range(start_batch * self.batch_size, len(self) * self.batch_size, self.batch_size):
            batch = indices[start:start + self.batch_size]
            images = to_unit_range(self.images[batch])
            yield images if self.labels is None else (images, self.labels[batch])
