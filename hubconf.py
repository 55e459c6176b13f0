"""torch.hub entry points for gan-models: `torch.hub.list("<owner>/gan-models")` lists them.

They are gan_models.specs.ENTRY_POINTS (gan_models.hub.__all__): for each model, its generator (fcgan, lsgan,
dcgan, dcgan64) and its discriminator (fcgan_discriminator, ...), all importable from here by name.
"""
dependencies = ["torch"]

from gan_models.hub import *  # noqa: E402,F403
