"""torch.hub entry points: keyword-only builders returning plain nn.Modules.

Generators map z (N, nz) to images (N, C, H, W) in [-1, 1]; discriminators map images to
logits (N, 1). Extra keywords go to the network's constructor (see gan_models.nets).
`conditional=True` gives the class-conditional network of the same model instead
(gan_models.nets.conditional): G(z, labels) and D(images, labels), labels int64 (N,).
"""
from gan_models.nets.base import DiscriminatorBase, GeneratorBase
from gan_models.registry import (
    NoPretrainedWeightsError,
    build_discriminator,
    build_generator,
    load_pretrained_generator,
)


def _generator(model: str, pretrained: bool, dataset: str, conditional: bool, kwargs: dict) -> GeneratorBase:
    if pretrained:
        return load_pretrained_generator(model, dataset, conditional=conditional, **kwargs)
    return build_generator(model, conditional=conditional, **kwargs)


def _discriminator(model: str, pretrained: bool, conditional: bool, kwargs: dict) -> DiscriminatorBase:
    if pretrained:
        raise NoPretrainedWeightsError(f"only generators ship pretrained weights; {model} discriminators are "
                                       "trainable only (pretrained=False)")
    return build_discriminator(model, conditional=conditional, **kwargs)


def fcgan(*, pretrained: bool = False, dataset: str = "mnist", conditional: bool = False,
          **kwargs) -> GeneratorBase:
    """Fully connected GAN generator (Goodfellow et al. 2014), 28 x 28.

    Linear(nz, 1024) - ReLU - Linear(1024, 1024) - ReLU - Linear(1024, 784) - Tanh.
    (N, nz) -> (N, 1, 28, 28) in [-1, 1].

    Args:
        pretrained: load shipped weights (eval mode) instead of a fresh, trainable network.
        dataset: which shipped weights ("mnist" or "fashion-mnist") when pretrained.
        conditional: the class-conditional generator G(z, labels) (Mirza & Osindero 2014) instead;
            it has `num_classes`, `classes` and samples with G.sample(n, labels=7 or "Sneaker").
        **kwargs: nz (default 96), ngf, image_size, channels, dropout, noise; with conditional
            also num_classes (10), classes (names), embed_dim (num_classes).
    """
    return _generator("fcgan", pretrained, dataset, conditional, kwargs)


def lsgan(*, pretrained: bool = False, dataset: str = "mnist", conditional: bool = False,
          **kwargs) -> GeneratorBase:
    """Least-squares GAN generator (Mao et al. 2016): the FC-GAN generator trained with the LSGAN loss.

    (N, nz) -> (N, 1, 28, 28) in [-1, 1].

    Args:
        pretrained: load shipped weights (eval mode) instead of a fresh, trainable network.
        dataset: which shipped weights ("mnist" or "fashion-mnist") when pretrained.
        conditional: the class-conditional generator G(z, labels) (Mirza & Osindero 2014) instead;
            it has `num_classes`, `classes` and samples with G.sample(n, labels=7 or "Sneaker").
        **kwargs: nz (default 96), ngf, image_size, channels, dropout, noise; with conditional
            also num_classes (10), classes (names), embed_dim (num_classes).
    """
    return _generator("lsgan", pretrained, dataset, conditional, kwargs)


def dcgan(*, pretrained: bool = False, dataset: str = "mnist", conditional: bool = False,
          **kwargs) -> GeneratorBase:
    """DCGAN generator for 28 x 28 images (the InfoGAN generator, Chen et al. 2016, Appendix C.1).

    Linear - ReLU - BatchNorm1d - Linear - ReLU - BatchNorm1d - ConvTranspose2d x 2 - Tanh.
    (N, nz) -> (N, 1, 28, 28) in [-1, 1].

    Args:
        pretrained: load shipped weights (eval mode) instead of a fresh, trainable network.
        dataset: which shipped weights ("mnist" or "fashion-mnist") when pretrained.
        conditional: the class-conditional generator G(z, labels) (Mirza & Osindero 2014) instead;
            it has `num_classes`, `classes` and samples with G.sample(n, labels=7 or "Sneaker").
        **kwargs: nz (default 96), ngf (default 64), channels, noise; with conditional also
            num_classes (10), classes (names), embed_dim (num_classes).
    """
    return _generator("dcgan", pretrained, dataset, conditional, kwargs)


def dcgan64(*, pretrained: bool = False, dataset: str = "emoji", conditional: bool = False,
            **kwargs) -> GeneratorBase:
    """DCGAN generator for 64 x 64 images (Radford et al. 2015).

    Transposed convolutions 1 -> 4 -> 8 -> 16 -> 32 -> 64 with BatchNorm and ReLU, Tanh output.
    (N, nz) -> (N, channels, 64, 64) in [-1, 1].

    Args:
        pretrained: load shipped weights (eval mode), hash-checked; NoPretrainedWeightsError when none
            ship for `dataset`.
        dataset: which shipped weights when pretrained: "emoji" (Emoji64: Noto Emoji, Apache-2.0, and
            Twemoji, CC BY 4.0; the record's `credits` name them).
        conditional: the class-conditional generator G(z, labels) (Mirza & Osindero 2014) instead.
        **kwargs: nz (default 100), ngf (default 64), channels (default 3), noise; with conditional
            also num_classes (10), classes (names), embed_dim (num_classes).
    """
    return _generator("dcgan64", pretrained, dataset, conditional, kwargs)


def fcgan_discriminator(*, pretrained: bool = False, conditional: bool = False, **kwargs) -> DiscriminatorBase:
    """FC-GAN discriminator: (N, 1, 28, 28) -> (N, 1) logits. Keywords: ndf (256), image_size, channels, dropout."""
    return _discriminator("fcgan", pretrained, conditional, kwargs)


def lsgan_discriminator(*, pretrained: bool = False, conditional: bool = False, **kwargs) -> DiscriminatorBase:
    """LSGAN discriminator (the FC-GAN one, trained on raw scores): (N, 1, 28, 28) -> (N, 1).

    Keywords as fcgan_discriminator.
    """
    return _discriminator("lsgan", pretrained, conditional, kwargs)


def dcgan_discriminator(*, pretrained: bool = False, conditional: bool = False, **kwargs) -> DiscriminatorBase:
    """DCGAN-28 discriminator (conv classifier): (N, 1, 28, 28) -> (N, 1) logits. Keywords: ndf (32), channels."""
    return _discriminator("dcgan", pretrained, conditional, kwargs)


def dcgan64_discriminator(*, pretrained: bool = False, conditional: bool = False, **kwargs) -> DiscriminatorBase:
    """DCGAN-64 discriminator: (N, C, 64, 64) -> (N, 1) logits. Keywords: ndf (64), channels (3).

    conditional=True gives the projection discriminator D(images, labels) (Miyato & Koyama 2018) around
    it; it also takes num_classes and classes. The same holds for every discriminator entry point.
    """
    return _discriminator("dcgan64", pretrained, conditional, kwargs)
