"""Networks: exact parameter counts from the reference, shapes, ranges, input checks, sampling."""
import pytest
import torch

from gan_models.nets import dcgan, fc
from gan_models.registry import MODELS, build_discriminator, build_generator


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("module, expected", [
    (lambda: fc.Discriminator(), 267_009),
    (lambda: fc.Generator(nz=4), 1_858_320),
    (lambda: fc.Generator(nz=96), 99_328 + 1_049_600 + 803_600),  # 96*1024+1024, 1024*1024+1024, 1024*784+784
    (lambda: dcgan.Discriminator28(), 1_102_721),
    (lambda: dcgan.Generator28(nz=4), 6_580_801),
    (lambda: dcgan.Generator64(nz=100, channels=3), 3_576_704),
    (lambda: dcgan.Discriminator64(channels=3), 2_765_568),
])
def test_parameter_counts_match_reference(module, expected):
    assert count(module()) == expected


# Tiny widths keep the registry-wide tests fast; every registered model is covered.
TINY = {"fcgan": ({"ngf": 16}, {"ndf": 16}), "lsgan": ({"ngf": 16}, {"ndf": 16}),
        "dcgan": ({"ngf": 4}, {"ndf": 4}), "dcgan64": ({"ngf": 4}, {"ndf": 4})}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_generator_maps_latent_to_images_in_range(name):
    torch.manual_seed(0)
    generator = build_generator(name, **TINY[name][0]).eval()
    images = generator(torch.randn(5, generator.nz) * 10)
    size = 64 if name == "dcgan64" else 28
    channels = 3 if name == "dcgan64" else 1
    assert images.shape == (5, channels, size, size)
    assert generator.image_shape == (channels, size, size)
    assert images.min() >= -1 and images.max() <= 1
    assert not torch.allclose(images[0], images[1])  # different latents, different images


@pytest.mark.parametrize("name", sorted(MODELS))
def test_discriminator_returns_one_logit_per_image(name):
    generator = build_generator(name, **TINY[name][0])
    discriminator = build_discriminator(name, **TINY[name][1])
    logits = discriminator(generator.sample(3, seed=0))
    assert logits.shape == (3, 1)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_wrong_latent_shape_names_the_expected_shape(name):
    generator = build_generator(name, nz=7, **TINY[name][0])
    with pytest.raises(ValueError, match=r"latent z must have shape \(N, 7\), got \(2, 8\)"):
        generator(torch.zeros(2, 8))
    with pytest.raises(ValueError, match=r"got \(7,\)"):
        generator(torch.zeros(7))
    with pytest.raises(TypeError, match="floating-point"):
        generator(torch.zeros(2, 7, dtype=torch.long))


def test_wrong_image_shape_names_the_expected_shape():
    discriminator = dcgan.Discriminator64(ndf=4, channels=1)
    with pytest.raises(ValueError, match=r"images must have shape \(N, 1, 64, 64\), got \(2, 3, 64, 64\)"):
        discriminator(torch.zeros(2, 3, 64, 64))


def test_sample_is_reproducible_and_restores_training_mode():
    generator = dcgan.Generator28(nz=8, ngf=4)
    generator.train()
    running_mean = generator.project[2].running_mean.clone()
    first, second = generator.sample(4, seed=3), generator.sample(4, seed=3)
    assert torch.equal(first, second)
    assert not torch.equal(first, generator.sample(4, seed=4))
    assert generator.training
    assert torch.equal(running_mean, generator.project[2].running_mean)  # eval mode: statistics untouched


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


def test_dcgan64_grayscale_variant():
    generator = dcgan.Generator64(nz=10, ngf=4, channels=1)
    assert generator.sample(2, seed=0).shape == (2, 1, 64, 64)
