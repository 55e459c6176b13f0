"""gan_models/nets/dcgan.py: exact parameter counts of both families, and the grayscale DCGAN-64."""
import pytest
import torch

from gan_models.nets import dcgan, fc


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


def test_dcgan64_grayscale_variant():
    generator = dcgan.Generator64(nz=10, ngf=4, channels=1)
    assert generator.sample(2, seed=0).shape == (2, 1, 64, 64)
