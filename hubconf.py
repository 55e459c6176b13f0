"""torch.hub entry points for gan-models: `torch.hub.list("<owner>/gan-models")` lists them."""
dependencies = ["torch"]

from gan_models.hub import (dcgan, dcgan64, dcgan64_discriminator, dcgan_discriminator, fcgan,  # noqa: E402,F401
                            fcgan_discriminator, lsgan, lsgan_discriminator)
