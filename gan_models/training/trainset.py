"""The images a run trains on: loaded once (with their labels for a conditional run) at the generator's
size, saying in one line what was resized to it, cut to `max_images` and checked against the generator's
image shape. The trainer batches them once their number has chosen the batch size
(TrainConfig.for_data)."""
import torch

from gan_models.data import load_images, load_labelled_images
from gan_models.image_decoding import recording_resizes
from gan_models.training.config import TrainConfig


def load_trainset(config: TrainConfig, image_shape: tuple[int, int, int], classes: tuple[str, ...],
                  images: torch.Tensor | None = None, rank: int = 0) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The run's images uint8 (N, C, H, W) and their labels int64 (N,) (None unless conditional).

    Args:
        config: the resolved run config (dataset, split, max_images, conditional).
        image_shape: (C, H, W) of the generator's images; the data is loaded at that size.
        classes: a conditional run's class names (`gan_models.data.dataset_classes`), which the data must have.
        images: uint8 training images to use instead of loading the dataset (unconditional runs only).
        rank: this process's rank; rank 0 prints the line on resized images
            ("resized 60,000 mnist images of 28 x 28 to 32 x 32"), if any were.

    Raises:
        ValueError: images of another shape, images given to a conditional run, or as the loaders.
    """
    labels = None
    if config.conditional and images is not None:
        raise ValueError("a conditional run loads its labelled dataset itself; pass no images")
    with recording_resizes() as resized:
        if config.conditional:
            images, labels, found = load_labelled_images(config.dataset, config.data_root, split=config.split,
                                                         download=config.download, image_size=image_shape[-1],
                                                         channels=config.channels, emoji_design=config.emoji_design)
            assert found == classes, "dataset_classes and load_labelled_images disagree"
        elif images is None:
            images = load_images(config.dataset, config.data_root, split=config.split, download=config.download,
                                 image_size=image_shape[-1], channels=config.channels,
                                 emoji_design=config.emoji_design)
    if resized and rank == 0:
        print(resized.summary(f"{config.dataset} images", total=len(images)), flush=True)
    if images.dim() != 4 or tuple(images.shape[1:]) != tuple(image_shape):
        raise ValueError(f"training images must be (N, {', '.join(map(str, image_shape))}), got {tuple(images.shape)}")
    if config.max_images:
        images = images[:config.max_images]
        labels = None if labels is None else labels[:config.max_images]
    return images, labels
