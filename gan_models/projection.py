"""Projection (GAN inversion): the latent z whose image G(z) is closest to a given image.

Adam on z (Abdal et al. 2019, "Image2StyleGAN", arXiv 1904.03189, do the same with a VGG loss) with
loss = pixel MSE + feature_weight * mean squared distance in a classifier's 128 features (the
shipped one of the generator's dataset, gan_models.quality.classifier), from `restarts` starting
latents drawn from the generator's noise, keeping the best. Uniform noise stays in its support:
z is clamped to [-1, 1] after every step. A conditional generator keeps a given label fixed, or,
without one, every class is tried and the best kept.

Every image, restart and class is one row of a single batch: the loss is a sum over rows, and Adam
updates each element from its own gradient alone, so rows do not influence one another, and
projecting 100 images costs little more than projecting one on a CPU. Starting latents come from
a torch.Generator seeded by `seed`, so a projection is the same each time for a given seed and batch.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gan_models.noise import sample_noise

if TYPE_CHECKING:  # torch is imported in the functions, so that the command line's --help stays fast
    import torch

    from gan_models.nets.base import GeneratorBase

DEFAULT_STEPS = 100
DEFAULT_RESTARTS = 3
DEFAULT_LR = 0.05
# Between random pairs of MNIST test digits the mean squared feature distance was 17.3 and the pixel MSE 0.58 (30x);
# this weight gives the feature term about the pixel term's size instead of drowning it.
DEFAULT_FEATURE_WEIGHT = 0.03


@dataclass(frozen=True)
class Projection:
    """What `project` found; unpacks as `z, reconstruction, loss = project(G, image)`.

    z: (N, nz) float32 on the CPU; reconstruction: G(z) (N, C, H, W) in [-1, 1]; loss: (N,) the best
    restart's loss; labels: (N,) int64 classes of a conditional generator (given or found), else None.
    """

    z: torch.Tensor
    reconstruction: torch.Tensor
    loss: torch.Tensor
    labels: torch.Tensor | None = None

    def __iter__(self):
        return iter((self.z, self.reconstruction, self.loss))


def project(generator: GeneratorBase, image: torch.Tensor, *, labels=None, classifier=None, steps: int = DEFAULT_STEPS,
            restarts: int = DEFAULT_RESTARTS, lr: float = DEFAULT_LR, feature_weight: float = DEFAULT_FEATURE_WEIGHT,
            seed: int = 0) -> Projection:
    """The latents whose images best reproduce `image`: Adam on z from `restarts` seeds, the best kept per image.

    Args:
        generator: any GeneratorBase (its weights are not changed); run in eval mode.
        image: (C, H, W) or (N, C, H, W) float in [-1, 1], the generator's image shape.
        labels: conditional generators only: one class (index or name) for every image, or N; None tries every
            class and keeps the best.
        classifier: a module with `.features(x)` (N, C, H, W) -> (N, F) for the feature term, e.g.
            `load_classifier("mnist")`; None: pixel MSE alone.
        steps, restarts, lr: Adam steps, starting latents per image (and class), Adam's learning rate.
        feature_weight: weight of the mean squared feature distance beside the pixel MSE.
        seed: seeds the starting latents.

    Returns:
        Projection(z (N, nz), reconstruction (N, C, H, W), loss (N,), labels); a (C, H, W) image gives N = 1.

    Raises:
        ValueError: an image of another shape or outside [-1, 1], labels for an unconditional generator, a bad
            class, or steps/restarts < 1.
    """
    import torch

    from gan_models.nets.base import eval_mode
    from gan_models.nets.labels import refuse_labels, resolve_labels

    target = _check_image(generator, image)
    if steps < 1 or restarts < 1:
        raise ValueError(f"steps and restarts must be >= 1, got steps={steps}, restarts={restarts}")
    n = len(target)
    if generator.num_classes:
        if labels is None:  # every class for every image: (K * N) rows, class-major
            candidates = torch.arange(generator.num_classes).repeat_interleave(n)
        else:
            candidates = resolve_labels(labels, n, generator.classes)
    else:
        refuse_labels(labels, "generator")
        candidates = None
    groups = 1 if candidates is None else len(candidates) // n  # classes tried per image
    z, loss = _descend(generator, target.repeat(groups * restarts, 1, 1, 1),
                       None if candidates is None else candidates.repeat(restarts), classifier, steps, lr,
                       feature_weight, seed)
    best = loss.view(groups * restarts, n).argmin(dim=0)  # per image: its best (class, restart) row
    rows = best * n + torch.arange(n)
    chosen = None if candidates is None else candidates.repeat(restarts)[rows]
    with torch.no_grad(), eval_mode(generator):
        reconstruction = _generate(generator, z[rows], chosen)
    return Projection(z[rows], reconstruction, loss[rows], chosen)


def project_all(generator: GeneratorBase, images: torch.Tensor, *, labels=None, batch_size: int = 100,
                **options) -> Projection:
    """`project` over images (N, C, H, W) `batch_size` at a time (bounded memory), results concatenated.

    `labels`: as for `project`, one class for all images or N (sliced with the images); `options` go to `project`.
    """
    import torch

    parts = []
    for start in range(0, len(images), batch_size):
        batch_labels = labels if labels is None or isinstance(labels, (str, int)) else labels[start:start + batch_size]
        parts.append(project(generator, images[start:start + batch_size], labels=batch_labels, **options))
    chosen = None if parts[0].labels is None else torch.cat([p.labels for p in parts])
    return Projection(*(torch.cat([getattr(p, f) for p in parts]) for f in ("z", "reconstruction", "loss")), chosen)


def feature_distance(classifier, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Euclidean distance between the classifier features of images a and b (N, C, H, W) in [-1, 1]: (N,)."""
    import torch

    with torch.no_grad():
        return (classifier.features(a) - classifier.features(b)).norm(dim=1)


def _check_image(generator: GeneratorBase, image: torch.Tensor) -> torch.Tensor:
    """`image` as float32 (N, C, H, W) on the CPU; ValueError naming the shapes if it is not the generator's."""
    import torch

    if not isinstance(image, torch.Tensor) or not image.is_floating_point():
        raise TypeError("image must be a float tensor (C, H, W) or (N, C, H, W) in [-1, 1]; read files with "
                        "gan_models.image_decoding.decode_image")
    batch = image.unsqueeze(0) if image.dim() == 3 else image
    if batch.dim() != 4 or tuple(batch.shape[1:]) != generator.image_shape or not len(batch):
        raise ValueError(f"image must have shape {generator.image_shape} or (N, *{generator.image_shape}) for this "
                         f"generator, got {tuple(image.shape)}")
    if not torch.isfinite(batch).all() or batch.abs().max() > 1:
        raise ValueError("image must hold finite values in [-1, 1] (x / 127.5 - 1 of uint8 pixels)")
    return batch.detach().float().cpu()


def _generate(generator: GeneratorBase, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    """G(z) or G(z, labels), float32 on the CPU; z (R, nz) on the CPU, moved to the weights' device and dtype."""
    weight = next(generator.parameters())
    z = z.to(weight.device, weight.dtype)
    images = generator(z) if labels is None else generator(z, labels.to(weight.device))
    return images.float().cpu()


def _descend(generator, target, labels, classifier, steps, lr, feature_weight, seed):
    """Adam on R latents for targets (R, C, H, W): the final z (R, nz) and each row's loss (R,) at that z."""
    import torch

    from gan_models.nets.base import eval_mode

    rng = torch.Generator().manual_seed(seed)
    z = sample_noise(len(target), generator.nz, generator.noise, generator=rng).requires_grad_(True)
    target_features = None
    if classifier is not None and feature_weight:
        with torch.no_grad():
            target_features = classifier.features(target)
    optimizer = torch.optim.Adam([z], lr=lr)
    with eval_mode(generator), _frozen(generator, classifier):
        for step in range(steps + 1):
            loss = _row_loss(_generate(generator, z, labels), target, classifier, target_features, feature_weight)
            if step == steps:  # the loss at the z returned
                break
            optimizer.zero_grad(set_to_none=True)
            loss.sum().backward()
            optimizer.step()
            if generator.noise == "uniform":  # keep z where the generator was trained
                with torch.no_grad():
                    z.clamp_(-1, 1)
    return z.detach(), loss.detach()


@contextmanager
def _frozen(*modules):
    """A block in which the modules' parameters need no gradient (only z is optimised), restored afterwards."""
    params = [p for module in modules if module is not None for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def _row_loss(images, target, classifier, target_features, feature_weight) -> torch.Tensor:
    """Pixel MSE per row, plus feature_weight * the mean squared feature distance: (R,)."""
    loss = (images - target).pow(2).flatten(1).mean(dim=1)
    if target_features is not None:
        loss = loss + feature_weight * (classifier.features(images) - target_features).pow(2).mean(dim=1)
    return loss
