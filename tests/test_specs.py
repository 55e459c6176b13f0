"""The model specs: torch-free data whose defaults agree with the network constructors."""
import pytest
import torch

from gan_models.registry import build_discriminator, build_generator
from gan_models.specs import MODELS, get_spec


@pytest.mark.parametrize("name", list(MODELS))
def test_model_spec_nz_is_the_generator_constructor_default(name):
    # The trainer fills nz in from the spec, hub users get the constructor's default: they must agree.
    spec = MODELS[name]
    assert build_generator(name).nz == spec.nz


@pytest.mark.parametrize("name", list(MODELS))
def test_a_specs_networks_fit_together_at_its_latent_size(name):
    # What the trainer relies on: z of the spec's nz makes images the discriminator scores, one logit each.
    generator, discriminator = build_generator(name, ngf=4), build_discriminator(name, ndf=4)
    images = generator(torch.randn(3, MODELS[name].nz))
    assert images.shape == (3, *generator.image_shape)
    assert float(images.min()) >= -1 and float(images.max()) <= 1
    assert discriminator(images).shape == (3, 1)


def test_an_unknown_model_names_the_choices():
    choices = r"\['dcgan', 'dcgan64', 'fcgan', 'lsgan'\]"
    with pytest.raises(ValueError, match=rf"unknown model 'gan'; choose one of {choices}"):
        get_spec("gan")
