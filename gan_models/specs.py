"""The models gan-models knows, as data: names, defaults and where their networks live, without torch.

This module imports nothing heavy, so the command line can list the models and build its help
before torch is loaded; each spec imports its network module only when its classes are asked for.
The defaults here are the ones the trainer fills in (see gan_models.training.config); the network
constructors take their `nz` defaults from NZ_28 and NZ_64 here, so the two cannot disagree.
The torch.hub entry points (gan_models.hub, ENTRY_POINTS) are made from these specs, one generator
and one discriminator per model. A model may build several image sizes (IMAGE_SIZES): `sized_spec` gives
the spec, defaults included, of the networks it builds at each.
"""
import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSpec:
    """A named GAN: its two networks, the loss it trains with by default, and its training defaults."""

    name: str
    networks: str  # module in gan_models.nets holding both classes, e.g. "fc"
    generator_class: str  # class name of the generator in that module
    discriminator_class: str  # class name of the discriminator in that module
    loss: str  # default loss, a key of gan_models.losses.LOSSES
    nz: int  # default latent size, as the generator's constructor default
    lr_g: float  # default generator Adam learning rate
    lr_d: float  # default discriminator Adam learning rate
    dataset: str  # the shipped weights a hub entry point loads when pretrained=True names no dataset
    image_size: int  # height and width of its images, as its networks' constructors make them by default
    summary: str  # one line for listings and help

    @property
    def generator(self) -> type:
        """The generator class (a gan_models.nets.base.GeneratorBase); imports torch."""
        return getattr(importlib.import_module(f"gan_models.nets.{self.networks}"), self.generator_class)

    @property
    def discriminator(self) -> type:
        """The discriminator class (a gan_models.nets.base.DiscriminatorBase); imports torch."""
        return getattr(importlib.import_module(f"gan_models.nets.{self.networks}"), self.discriminator_class)


NZ_28 = 96  # latent size of the 28 x 28 models: the course assignment's
NZ_64 = 100  # latent size of DCGAN-64: Radford et al.'s
DCGAN_SIZES = (32, 64, 128)  # image sizes of Radford et al.'s DCGAN (gan_models.nets.dcgan.Generator)
# Radford et al. train DCGAN-64 with lr 2e-4; the assignment uses 1e-3 for the 28 x 28 models.
MODELS = {
    spec.name: spec
    for spec in (
        ModelSpec("fcgan", "fc", "Generator", "Discriminator", "vanilla", NZ_28, 1e-3, 1e-3, "mnist", 28,
                  "fully connected GAN, 28 x 28 (Goodfellow et al. 2014)"),
        ModelSpec("lsgan", "fc", "Generator", "Discriminator", "lsgan", NZ_28, 1e-3, 1e-3, "mnist", 28,
                  "least-squares GAN on the fully connected networks, 28 x 28 (Mao et al. 2016)"),
        ModelSpec("dcgan", "dcgan", "Generator28", "Discriminator28", "vanilla", NZ_28, 1e-3, 1e-3, "mnist", 28,
                  "DCGAN with the InfoGAN generator, 28 x 28 (Radford et al. 2015; Chen et al. 2016)"),
        ModelSpec("dcgan64", "dcgan", "Generator", "Discriminator", "vanilla", NZ_64, 2e-4, 2e-4, "emoji", 64,
                  "DCGAN, 64 x 64, 1 or 3 channels (Radford et al. 2015)"),
    )
}


def discriminator_entry_point(model: str) -> str:
    """The torch.hub name of `model`'s discriminator: "<model>_discriminator" (the generator's is the model's name)."""
    return f"{model}_discriminator"


# The eight torch.hub entry points, each model's generator then its discriminator: hubconf.py, gan_models.hub and
# the package's public names all read this tuple.
ENTRY_POINTS = tuple(name for model in MODELS for name in (model, discriminator_entry_point(model)))


# The image sizes of the models whose networks differ by size, and the model whose networks (and defaults) make
# each: the convolutional GAN is the InfoGAN-style DCGAN-28 at 28 and Radford et al.'s DCGAN, dcgan64's networks
# with the depth following the size, at 32, 64 and 128 (so dcgan at 64 is dcgan64). The FC networks take any size.
IMAGE_SIZES = {"dcgan": {28: "dcgan", **{size: "dcgan64" for size in DCGAN_SIZES}}, "dcgan64": {64: "dcgan64"}}


def get_spec(name: str) -> ModelSpec:
    """The ModelSpec called `name`; raises ValueError naming the choices for an unknown one."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    return MODELS[name]


def sized_spec(name: str, image_size: int | None = None) -> ModelSpec:
    """The spec of the networks model `name` builds at `image_size` (None: its default), e.g. dcgan64's for dcgan at 64.

    For a model outside IMAGE_SIZES (fcgan, lsgan) that is its own spec, its constructors checking the size.
    Raises TypeError for a size that is not an int, and ValueError naming the sizes `name` builds (and a model
    that builds the size asked, if one does) for another.
    """
    spec = get_spec(name)
    if image_size is None or name not in IMAGE_SIZES:
        return spec
    if isinstance(image_size, bool) or not isinstance(image_size, int):
        raise TypeError(f"image_size must be an int, got {image_size!r}")
    if image_size not in IMAGE_SIZES[name]:
        others = [model for model, sizes in IMAGE_SIZES.items() if model != name and image_size in sizes]
        hint = f"; {others[0]} builds them (image_size={image_size})" if others else ""
        raise ValueError(f"{name} builds images of size {', '.join(map(str, IMAGE_SIZES[name]))} only, "
                         f"not {image_size}{hint}")
    return MODELS[IMAGE_SIZES[name][image_size]]
