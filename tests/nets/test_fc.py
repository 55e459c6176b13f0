"""gan_models/nets/fc.py: the fully connected GAN's variants (noise, dropout, arguments)."""
import pytest
import torch

from gan_models.nets import fc


def test_uniform_noise_generator_samples_from_its_own_distribution():
    generator = fc.Generator(nz=3, ngf=8, noise="uniform")
    assert generator.noise == "uniform"
    with pytest.raises(ValueError, match="unknown noise 'cauchy'"):
        fc.Generator(noise="cauchy")


def test_dropout_variant_is_active_only_in_training():
    generator = fc.Generator(nz=4, ngf=32, dropout=0.5)
    z = torch.randn(8, 4)
    generator.eval()
    assert torch.equal(generator(z), generator(z))
    generator.train()
    torch.manual_seed(0)
    assert not torch.equal(generator(z), generator(z))


@pytest.mark.parametrize("bad", [{"nz": 0}, {"channels": 2}])
def test_invalid_constructor_arguments_are_rejected(bad):
    with pytest.raises(ValueError):
        fc.Generator(**bad)


@pytest.mark.parametrize("network", [fc.Generator, fc.Discriminator])
@pytest.mark.parametrize(("dropout", "error", "message"), [
    (float("nan"), ValueError, r"dropout must be in \[0, 1\), got nan"),
    (1.0, ValueError, r"dropout must be in \[0, 1\), got 1.0"),
    (-0.1, ValueError, r"dropout must be in \[0, 1\), got -0.1"),
    ("0.5", TypeError, r"dropout must be a number, got '0.5'"),
])
def test_dropout_outside_0_to_1_is_refused_when_built(network, dropout, error, message):
    with pytest.raises(error, match=message):
        network(dropout=dropout)
