"""The model specs: torch-free data whose defaults agree with the network constructors."""
import pytest

from gan_models.registry import build_discriminator, build_generator
from gan_models.specs import MODELS, get_spec


@pytest.mark.parametrize("name", list(MODELS))
def test_model_spec_nz_is_the_generator_constructor_default(name):
    # The trainer fills nz in from the spec, hub users get the constructor's default: they must agree.
    spec = MODELS[name]
    assert build_generator(name).nz == spec.nz
    assert (spec.generator, spec.discriminator) == (type(build_generator(name)), type(build_discriminator(name)))


def test_an_unknown_model_names_the_choices():
    choices = r"\['dcgan', 'dcgan64', 'fcgan', 'lsgan'\]"
    with pytest.raises(ValueError, match=rf"unknown model 'gan'; choose one of {choices}"):
        get_spec("gan")
