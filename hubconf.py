"""torch.hub entry points for gan-models: `torch.hub.list("<owner>/gan-models")` lists them."""
dependencies = ["torch"]

from gan_models.hub import (  # noqa: E402,F401
    dcgan,
    dcgan64,
    dcgan64_discriminator,
    dcgan_discriminator,
    fcgan,
    fcgan_discriminator,
    lsgan,
    lsgan_discriminator,
)
