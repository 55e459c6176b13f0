"""The ONNX file's interface, for plain and class-conditional generators alike.

A plain generator's file takes `z` float32 (batch, nz); a conditional one's takes `z` and
`labels` int64 (batch,), class indices in [0, num_classes). Both give `images` float32
(batch, C, H, W) in [-1, 1]. A generator is conditional when its `num_classes` is not 0; its
forward is `G(z, labels)` and its `classes` (names, one per index) go into the metadata.
"""
import torch

INPUT_NAME = "z"  # (batch, nz) float32 latents
LABELS_NAME = "labels"  # (batch,) int64 class indices, conditional generators only
OUTPUT_NAME = "images"  # (batch, C, H, W) float32 in [-1, 1]
BATCH_AXIS = "batch"


def input_names(generator) -> list[str]:
    """["z"] for a plain generator, ["z", "labels"] for a conditional one."""
    return [INPUT_NAME, LABELS_NAME] if generator.num_classes else [INPUT_NAME]


def example_inputs(generator, batch_size: int) -> tuple[torch.Tensor, ...]:
    """Example inputs for an exporter: zeros z (batch_size, nz), and labels 0, 1, ... for a conditional generator."""
    z = torch.zeros(batch_size, generator.nz)
    if not generator.num_classes:
        return (z,)
    return z, torch.arange(batch_size, dtype=torch.int64) % generator.num_classes


def random_labels(generator, n: int, seed: int) -> torch.Tensor | None:
    """`n` class indices (n,) int64 drawn uniformly from `seed`, or None for a plain generator."""
    if not generator.num_classes:
        return None
    return torch.randint(generator.num_classes, (n,), generator=torch.Generator().manual_seed(seed))


def feeds(z: torch.Tensor, labels: torch.Tensor | None) -> dict:
    """The onnxruntime feed for latents z (B, nz) and, for a conditional file, labels (B,)."""
    feed = {INPUT_NAME: z.numpy()}
    if labels is not None:
        feed[LABELS_NAME] = labels.numpy()
    return feed


def run_torch(generator, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    """The PyTorch generator on the same inputs: images (B, C, H, W)."""
    return generator(z) if labels is None else generator(z, labels)
