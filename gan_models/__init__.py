"""gan-models: trainable and pretrained GANs (FC-GAN, LSGAN, DCGAN) for torch.hub, exported to ONNX."""
from gan_models.hub import (
    dcgan,
    dcgan64,
    dcgan64_discriminator,
    dcgan_discriminator,
    fcgan,
    fcgan_discriminator,
    lsgan,
    lsgan_discriminator,
)
from gan_models.registry import MODELS, build_discriminator, build_generator

__version__ = "0.1.0"

__all__ = ["MODELS", "build_discriminator", "build_generator", "dcgan", "dcgan64", "dcgan64_discriminator",
           "dcgan_discriminator", "fcgan", "fcgan_discriminator", "lsgan", "lsgan_discriminator"]
