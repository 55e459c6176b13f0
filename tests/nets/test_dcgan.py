"""gan_models/nets/dcgan.py: exact parameter counts of both families at every size, by hand, and their layers."""
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
    (lambda: dcgan.Generator(nz=100, channels=3), 3_576_704),
    (lambda: dcgan.Discriminator(channels=3), 2_765_568),
])
def test_parameter_counts_match_reference(module, expected):
    assert count(module()) == expected


# Radford et al.'s DCGAN at nz=100, ngf = ndf = 64, 3 channels, by hand. A bias-free 4 x 4 (transposed) conv from
# c_in to c_out channels holds c_in * c_out * 16 weights; a BatchNorm2d of c channels 2 * c (scale and shift).
GENERATOR_COUNTS = {
    # 100 -> 256 at 4 x 4, 256 -> 128 at 8, 128 -> 64 at 16, 64 -> 3 at 32
    32: (100 * 256 * 16 + 2 * 256) + (256 * 128 * 16 + 2 * 128) + (128 * 64 * 16 + 2 * 64) + 64 * 3 * 16,
    # 100 -> 512 at 4, 512 -> 256 at 8, 256 -> 128 at 16, 128 -> 64 at 32, 64 -> 3 at 64 (the reference's 3,576,704)
    64: (100 * 512 * 16 + 2 * 512) + (512 * 256 * 16 + 2 * 256) + (256 * 128 * 16 + 2 * 128)
        + (128 * 64 * 16 + 2 * 64) + 64 * 3 * 16,
    # 100 -> 1024 at 4, 1024 -> 512 at 8, 512 -> 256 at 16, 256 -> 128 at 32, 128 -> 64 at 64, 64 -> 3 at 128
    128: (100 * 1024 * 16 + 2 * 1024) + (1024 * 512 * 16 + 2 * 512) + (512 * 256 * 16 + 2 * 256)
         + (256 * 128 * 16 + 2 * 128) + (128 * 64 * 16 + 2 * 64) + 64 * 3 * 16,
}
DISCRIMINATOR_COUNTS = {
    # 3 -> 64 at 16 (no BatchNorm), 64 -> 128 at 8, 128 -> 256 at 4, then 256 -> 1 logit
    32: 3 * 64 * 16 + (64 * 128 * 16 + 2 * 128) + (128 * 256 * 16 + 2 * 256) + 256 * 16,
    # 3 -> 64 at 32, 64 -> 128 at 16, 128 -> 256 at 8, 256 -> 512 at 4, 512 -> 1 (the reference's 2,765,568)
    64: 3 * 64 * 16 + (64 * 128 * 16 + 2 * 128) + (128 * 256 * 16 + 2 * 256) + (256 * 512 * 16 + 2 * 512)
        + 512 * 16,
    # 3 -> 64 at 64, 64 -> 128 at 32, 128 -> 256 at 16, 256 -> 512 at 8, 512 -> 1024 at 4, 1024 -> 1
    128: 3 * 64 * 16 + (64 * 128 * 16 + 2 * 128) + (128 * 256 * 16 + 2 * 256) + (256 * 512 * 16 + 2 * 512)
         + (512 * 1024 * 16 + 2 * 1024) + 1024 * 16,
}


def test_the_hand_derived_counts_are_these_numbers():
    # Written out once, so that a reader (and the README) can quote them.
    assert GENERATOR_COUNTS == {32: 1_068_928, 64: 3_576_704, 128: 12_786_560}
    assert DISCRIMINATOR_COUNTS == {32: 663_296, 64: 2_765_568, 128: 11_164_416}


@pytest.mark.parametrize("size", [32, 64, 128])
def test_dcgan_parameter_counts_at_each_size_match_the_hand_derived_ones(size):
    assert count(dcgan.Generator(nz=100, channels=3, image_size=size)) == GENERATOR_COUNTS[size]
    assert count(dcgan.Discriminator(channels=3, image_size=size)) == DISCRIMINATOR_COUNTS[size]


@pytest.mark.parametrize("size, convs, widths", [
    (32, 4, [256, 128, 64, 3]), (64, 5, [512, 256, 128, 64, 3]), (128, 6, [1024, 512, 256, 128, 64, 3])])
def test_depth_follows_the_size_from_4_x_4(size, convs, widths):
    """log2(size) - 1 (transposed) convs each way, the 4 x 4 end size / 8 times the base width wide."""
    generator, discriminator = dcgan.Generator(image_size=size), dcgan.Discriminator(image_size=size)
    ups = [m for m in generator.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    downs = [m for m in discriminator.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(ups) == len(downs) == convs
    assert [m.out_channels for m in ups] == widths
    assert [m.out_channels for m in downs] == [*widths[-2::-1], 1]
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in discriminator.modules()) == convs - 2  # not first, last
    z = torch.randn(2, 100)
    images = generator.eval()(z)
    assert images.shape == (2, 3, size, size) and images.abs().max() <= 1
    assert discriminator.eval()(images).shape == (2, 1)


def test_the_64_x_64_network_keeps_its_module_names():
    # The shipped dcgan64 state dicts hold these keys; a renumbered Sequential would no longer load them.
    keys = list(dcgan.Generator(ngf=2, channels=1).state_dict())
    assert [k for k in keys if k.endswith("weight")] == [f"net.{i}.weight" for i in (1, 2, 4, 5, 7, 8, 10, 11, 13)]
    keys = list(dcgan.Discriminator(ndf=2, channels=1).state_dict())
    assert [k for k in keys if k.endswith("weight")] == [f"net.{i}.weight" for i in (0, 2, 3, 5, 6, 8, 9, 11)]


@pytest.mark.parametrize("size", [28, 16, 96, 256])
def test_other_sizes_are_refused_naming_the_choices(size):
    with pytest.raises(ValueError, match=rf"image_size must be one of 32, 64, 128 for Radford et al.'s DCGAN, "
                                         rf"got {size}"):
        dcgan.Generator(image_size=size)
    with pytest.raises(ValueError, match="must be one of 32, 64, 128"):
        dcgan.Discriminator(image_size=size)


def test_dcgan64_grayscale_variant():
    generator = dcgan.Generator(nz=10, ngf=4, channels=1)
    assert generator.sample(2, seed=0).shape == (2, 1, 64, 64)
