"""What every generator and discriminator shares: input checks and sampling.

Kept to one thin base class per role so that the network files read as the papers do.
"""
import numbers
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from gan_models.nets.labels import refuse_labels
from gan_models.noise import check_noise_kind, check_truncation, sample_noise

OUTPUTS = ("tensor", "uint8", "pil")  # what G.sample returns: float in [-1, 1], uint8 pixels, or PIL images


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


def check_output(output: str) -> str:
    """Return `output` if it names one of OUTPUTS, else raise ValueError."""
    if output not in OUTPUTS:
        raise ValueError(f"unknown output {output!r}; choose one of {list(OUTPUTS)}")
    return output


def as_output(images: torch.Tensor, output: str):
    """Generated images (N, C, H, W) in [-1, 1] as G.sample's `output` says: the tensor, uint8 (same device), or PIL."""
    from gan_models.data import to_uint8
    from gan_models.images import to_pil

    if check_output(output) == "tensor":
        return images
    pixels = to_uint8(images.float())  # in float32: bfloat16 cannot hold (x + 1) * 127.5 to the nearest level
    return pixels if output == "uint8" else to_pil(pixels)


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
    def sample(self, n: int, seed: int | None = None, *, generator: torch.Generator | None = None, labels=None,
               device: torch.device | str | None = None, output: str = "tensor", truncation: float | None = None):
        """Generate `n` images from fresh noise of this generator's kind, in eval mode.

        Args:
            n: number of images, >= 1.
            seed: makes the draw reproducible without touching the global RNG. One seed gives the
                same images on every device (up to the device's arithmetic): the noise is drawn
                on the CPU, then moved to the weights' device, in their dtype (so `.half()` and
                `.to(torch.bfloat16)` generators sample too).
            generator: a torch.Generator to draw from instead of `seed` (not both); the noise is
                drawn on its device.
            labels: for conditional generators, which override this; here it is refused (ValueError).
            device: where the noise is drawn, "cpu" by default (the generator's device when one is
                given). Drawing on "cuda" is faster for large n but gives other numbers for a seed.
            output: "tensor": float (n, C, H, W) in [-1, 1] on the weights' device and dtype;
                "uint8": uint8 (n, C, H, W) in [0, 255] on that device; "pil": a list of n PIL
                images (mode "L" or "RGB").
            truncation: psi > 0: redraw noise components beyond psi standard deviations
                (gan_models.noise.sample_noise); fewer odd images, less variety. None: no truncation.

        The previous train/eval mode is restored afterwards (BatchNorm statistics are not updated).
        """
        refuse_labels(labels, "generator")
        check_output(output)
        z, _ = self._sample_noise(n, seed, generator, device, truncation)
        with eval_mode(self):
            return as_output(self(z), output)

    def _sample_noise(self, n: int, seed: int | None, generator: torch.Generator | None = None,
                      device: torch.device | str | None = None,
                      truncation: float | None = None) -> tuple[torch.Tensor, torch.Generator]:
        """Latents (n, nz) in the weights' dtype and on their device, drawn on `device` (the CPU, or `generator`'s
        device) from `generator` or a fresh one seeded by `seed`; and that torch.Generator (for drawing labels)."""
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError(f"n must be an int, got {n!r}")
        n = int(n)
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        check_truncation(truncation)
        if generator is not None:
            if seed is not None:
                raise ValueError("give seed or generator, not both")
            if not isinstance(generator, torch.Generator):
                raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
            if device is not None and torch.device(device) != generator.device:
                raise ValueError(f"the generator draws on {generator.device}, not on device={device!r}; "
                                 "give one of them")
            rng = generator
        else:
            rng = torch.Generator(device="cpu" if device is None else device)
            if seed is None:
                rng.seed()
            else:
                rng.manual_seed(seed)
        weight = next(self.parameters())
        z = sample_noise(n, self.nz, self.noise, generator=rng, device=rng.device, truncation=truncation)
        return z.to(weight.device, weight.dtype), rng


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
