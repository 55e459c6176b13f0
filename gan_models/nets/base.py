"""What every generator and discriminator shares: input checks and sampling.

Kept to one thin base class per role so that the network files read as the papers do.
"""
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from gan_models.nets.labels import refuse_labels
from gan_models.noise import check_noise_kind, sample_noise


def check_input(x: torch.Tensor, expected: tuple, what: str, module: nn.Module | None = None) -> None:
    """Raise TypeError/ValueError unless `x` is a floating tensor of shape (N, *expected[1:]).

    `expected` is a shape tuple whose first entry is a label for the batch axis, e.g. ("N", nz).
    With `module`, `x` must also have the dtype (unless autocast is on, which mixes them by
    design) and device of its parameters (torch would otherwise fail deep inside a layer with a
    message that names neither).
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{what} must be a floating-point tensor, got dtype {x.dtype}")
    if x.dim() != len(expected) or tuple(x.shape[1:]) != tuple(expected[1:]):
        shape = ", ".join(str(d) for d in expected)
        raise ValueError(f"{what} must have shape ({shape}), got {tuple(x.shape)}")
    weight = next(module.parameters(), None) if module is not None else None
    if weight is not None and x.dtype != weight.dtype and not torch.is_autocast_enabled(weight.device.type):
        raise TypeError(f"{what} has dtype {x.dtype} but the weights are {weight.dtype}; "
                        f"convert with .to({weight.dtype})")
    if weight is not None and x.device != weight.device:
        raise ValueError(f"{what} is on {x.device} but the weights are on {weight.device}; "
                         f"move it with .to('{weight.device}')")


def check_sizes(**sizes) -> None:
    """Raise TypeError/ValueError unless every keyword (nz, ngf, ...) is an int >= 1."""
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {value!r}")
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")


def check_dropout(p: float) -> float:
    """`p` if it is a number in [0, 1), else TypeError/ValueError (nn.Dropout lets NaN through and fails later)."""
    if isinstance(p, bool) or not isinstance(p, (int, float)):
        raise TypeError(f"dropout must be a number, got {p!r}")
    if not 0 <= p < 1:
        raise ValueError(f"dropout must be in [0, 1), got {p}")
    return float(p)


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """Run a block with `module` in eval mode (BatchNorm on running statistics, no dropout), then restore its mode."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


def init_xavier(module: nn.Module) -> None:
    """Xavier-uniform weights and zero biases for Linear and (transposed) conv layers (the assignment's init)."""
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)


class _SummarisedLoading(nn.Module):
    """nn.Module whose load_state_dict reports a mismatch in one short line, not one entry per key (1,000s of chars)."""

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """nn.Module.load_state_dict; RuntimeError naming the counts and the first few keys of what does not fit."""
        try:
            return super().load_state_dict(state_dict, strict=strict, assign=assign)
        except RuntimeError as err:
            own = self.state_dict()
            missing = [key for key in own if key not in state_dict]
            unexpected = [key for key in state_dict if key not in own]
            reshaped = [f"{key} {tuple(state_dict[key].shape)} for {tuple(own[key].shape)}" for key in own
                        if key in state_dict and hasattr(state_dict[key], "shape")
                        and state_dict[key].shape != own[key].shape]
            kinds = [(missing, "missing"), (unexpected, "unexpected")] if strict else []
            parts = [f"{len(keys)} {what} ({', '.join(keys[:3])}{', ...' if len(keys) > 3 else ''})"
                     for keys, what in [*kinds, (reshaped, "of another shape")] if keys]
            if not parts:
                raise
            raise RuntimeError(f"these weights do not fit {type(self).__name__} ({len(own)} keys): " + "; ".join(parts)
                               + "; are they another model's, or of other widths?") from err


class GeneratorBase(_SummarisedLoading):
    """Base for generators: maps z of shape (N, nz) to images (N, C, H, W) in [-1, 1].

    Subclasses set `nz`, `channels`, `image_size` and `noise` and implement `generate(z)`. Conditional
    generators (gan_models.nets.conditional) also take labels and set `num_classes` (>= 2) and `classes`;
    for every other generator `num_classes` is 0, the one test of whether a generator is conditional.
    """

    nz: int
    channels: int
    image_size: int
    noise: str
    num_classes: int = 0  # classes G(z, labels) draws; 0 for an unconditional G(z)
    classes: tuple[str, ...] = ()  # their names, in label order; () when unconditional

    def __init__(self, nz: int, channels: int, image_size: int, noise: str, **widths: int) -> None:
        """`widths` (ngf=64, ...) are checked like nz: ints >= 1."""
        super().__init__()
        check_sizes(nz=nz, channels=channels, image_size=image_size, **widths)
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        self.nz, self.channels, self.image_size = nz, channels, image_size
        self.noise = check_noise_kind(noise)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one generated image."""
        return (self.channels, self.image_size, self.image_size)

    def forward(self, z: torch.Tensor, labels: None = None) -> torch.Tensor:
        """(N, nz) -> (N, C, H, W) in [-1, 1]. `labels` exists only to refuse them with a clear ValueError."""
        refuse_labels(labels, "generator")
        check_input(z, ("N", self.nz), "latent z", self)
        return self.generate(z)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def sample(self, n: int, seed: int | None = None, *, labels=None) -> torch.Tensor:
        """Generate `n` images (n, C, H, W) in [-1, 1] from fresh noise of this generator's kind.

        Runs in eval mode (BatchNorm uses running statistics) and restores the previous mode;
        `seed` makes the draw reproducible without touching the global RNG. `labels` is for
        conditional generators, which override this; here it is refused with a ValueError.
        """
        refuse_labels(labels, "generator")
        z, _ = self._sample_noise(n, seed)
        with eval_mode(self):
            return self(z)

    def _sample_noise(self, n: int, seed: int | None) -> tuple[torch.Tensor, torch.Generator]:
        """Latents (n, nz) on the weights' device, and the generator they were drawn with (seeded by `seed`)."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        device = next(self.parameters()).device
        rng = torch.Generator(device=device)
        if seed is None:
            rng.seed()
        else:
            rng.manual_seed(seed)
        return sample_noise(n, self.nz, self.noise, generator=rng, device=device), rng


class DiscriminatorBase(_SummarisedLoading):
    """Base for discriminators: maps images (N, C, H, W) to logits (N, 1).

    Subclasses set `channels` and `image_size` and implement `score(x)`. Conditional discriminators
    (gan_models.nets.conditional) also take labels and set `num_classes`.
    """

    def __init__(self, channels: int, image_size: int, **widths: int) -> None:
        """`widths` (ndf=64, ...) are checked: ints >= 1."""
        super().__init__()
        check_sizes(channels=channels, image_size=image_size, **widths)
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        self.channels, self.image_size = channels, image_size

    def forward(self, x: torch.Tensor, labels: None = None) -> torch.Tensor:
        """(N, C, H, W) images in [-1, 1] -> (N, 1) real-valued logits. Labels are refused (ValueError)."""
        refuse_labels(labels, "discriminator")
        check_input(x, ("N", self.channels, self.image_size, self.image_size), "images", self)
        return self.score(x)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError
