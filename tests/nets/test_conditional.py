"""Conditional networks: hand-derived parameter counts, labels that route, a D that sees them, the bad-label table."""
import pytest
import torch

import gan_models
from gan_models.nets.conditional import ConditionalGenerator, ProjectionDiscriminator
from gan_models.registry import MODELS, NoPretrainedWeightsError, build_discriminator, build_generator

FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
TINY = {"fcgan": ({"ngf": 16}, {"ndf": 16}), "lsgan": ({"ngf": 16}, {"ndf": 16}),
        "dcgan": ({"ngf": 4}, {"ndf": 4}), "dcgan64": ({"ngf": 4}, {"ndf": 4})}


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def linear(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


K = 10  # classes; the generator's label embedding is K x K by default
FC_G = linear(96 + K, 1024) + linear(1024, 1024) + linear(1024, 784) + K * K
DCGAN28_G = (linear(96 + K, 1024) + 2 * 1024 + linear(1024, 7 * 7 * 128) + 2 * 7 * 7 * 128  # Linear, BatchNorm1d
             + 128 * 64 * 16 + 64 + 2 * 64 + 64 * 1 * 16 + 1  # ConvTranspose 4 x 4 (+ bias), BatchNorm2d
             + K * K)
DCGAN64_G = ((100 + K) * 512 * 16 + 2 * 512 + 512 * 256 * 16 + 2 * 256 + 256 * 128 * 16 + 2 * 128  # bias-free
             + 128 * 64 * 16 + 2 * 64 + 64 * 3 * 16 + K * K)
# Discriminators: the unconditional counts (tested in test_nets) plus V, K x F with F the features before the output.
FC_D = 267_009 + K * 256
DCGAN28_D = 1_102_721 + K * 32 * 32
DCGAN64_D = 2_765_568 + K * 8 * 64 * 4 * 4


@pytest.mark.parametrize("name, generator, discriminator", [
    ("fcgan", FC_G, FC_D), ("lsgan", FC_G, FC_D), ("dcgan", DCGAN28_G, DCGAN28_D), ("dcgan64", DCGAN64_G, DCGAN64_D),
])
def test_parameter_counts_match_hand_derivation(name, generator, discriminator):
    assert count(build_generator(name, conditional=True)) == generator
    assert count(build_discriminator(name, conditional=True)) == discriminator


def test_embedding_size_and_class_count_change_the_count_as_derived():
    generator = build_generator("fcgan", conditional=True, num_classes=3, embed_dim=5, nz=4, ngf=8)
    assert count(generator) == linear(4 + 5, 8) + linear(8, 8) + linear(8, 784) + 3 * 5
    discriminator = build_discriminator("dcgan", conditional=True, classes=("a", "b", "c"), ndf=2)
    assert count(discriminator) == count(build_discriminator("dcgan", ndf=2)) + 3 * 32 * 2


@pytest.mark.parametrize("name", sorted(MODELS))
def test_labels_route_to_the_image(name):
    torch.manual_seed(0)
    generator = build_generator(name, conditional=True, **TINY[name][0]).eval()
    z = torch.randn(1, generator.nz).repeat(K, 1)  # one latent, every class
    images = generator(z, torch.arange(K))
    again = generator(z, torch.arange(K))
    assert torch.equal(images, again)  # same latent and label, same image
    differences = (images[1:] - images[:1]).flatten(1).abs().amax(dim=1)
    # Same latent, another label: another image, for every class, by at least 5% of the output's scale
    # (fresh DCGAN-64 weights, N(0, 0.02), give outputs of about 1e-4 in eval mode).
    assert differences.min() > 0.05 * images.abs().max()
    assert images.shape == (K, *generator.image_shape)
    assert images.min() >= -1 and images.max() <= 1


@pytest.mark.parametrize("name", sorted(MODELS))
def test_discriminator_sees_the_label(name):
    torch.manual_seed(0)
    discriminator = build_discriminator(name, conditional=True, **TINY[name][1])
    images = torch.rand(4, discriminator.channels, discriminator.image_size, discriminator.image_size) * 2 - 1
    labels = torch.tensor([1, 1, 3, 5])
    discriminator(images, labels).sum().backward()
    row_norms = discriminator.embed.weight.grad.norm(dim=1)
    assert (row_norms[[1, 3, 5]] > 0).all()  # the embedding rows of the labels given receive gradient
    assert row_norms[[0, 2, 4, 6, 7, 8, 9]].abs().max() == 0  # and only those
    discriminator.eval()
    with torch.no_grad():
        assert not torch.allclose(discriminator(images, labels), discriminator(images, labels.flip(0)))


def test_projection_adds_the_inner_product_to_the_unconditional_logit():
    """D(x, y) = psi(phi(x)) + <V[y], phi(x)>, checked by hand on the FC discriminator."""
    torch.manual_seed(0)
    discriminator = ProjectionDiscriminator(gan_models.nets.fc.Discriminator, ndf=8, num_classes=3)
    x, y = torch.rand(5, 1, 28, 28), torch.tensor([0, 1, 2, 1, 0])
    phi = torch.nn.functional.leaky_relu(discriminator.features[4](torch.nn.functional.leaky_relu(
        discriminator.features[1](x.flatten(1)), 0.01)), 0.01)  # Flatten, Linear, LReLU, (Dropout), Linear, LReLU
    expected = discriminator.head[0](phi) + (discriminator.embed.weight[y] * phi).sum(1, keepdim=True)
    assert (discriminator(x, y) - expected).abs().max() < 1e-6


def test_sample_takes_an_index_a_name_a_list_or_a_tensor():
    torch.manual_seed(0)
    generator = build_generator("dcgan", conditional=True, classes=FASHION, ngf=4)
    assert generator.num_classes == 10 and generator.classes == FASHION
    sneakers = generator.sample(6, labels=7, seed=0)
    assert torch.equal(generator.sample(6, labels="Sneaker", seed=0), sneakers)
    assert torch.equal(generator.sample(6, labels="sneaker", seed=0), sneakers)  # names in any case
    assert torch.equal(generator.sample(6, labels=[7] * 6, seed=0), sneakers)
    assert torch.equal(generator.sample(6, labels=torch.tensor(7), seed=0), sneakers)
    assert torch.equal(generator.sample(6, labels=torch.full((6,), 7, dtype=torch.int32), seed=0), sneakers)
    mixed = generator.sample(6, labels=["Bag", 7, "Bag", 7, "Bag", 7], seed=0)
    assert torch.equal(mixed[1::2], sneakers[1::2]) and not torch.equal(mixed[::2], sneakers[::2])
    assert torch.equal(generator.sample(6, seed=1), generator.sample(6, seed=1))  # drawn labels follow the seed
    assert generator.training  # sample restores the mode


def _forward(labels, n=3):
    generator = build_generator("fcgan", conditional=True, classes=FASHION, ngf=8)
    return generator(torch.zeros(n, generator.nz), labels)


def _sample(labels, n=3):
    return build_generator("fcgan", conditional=True, classes=FASHION, ngf=8).sample(n, labels=labels, seed=0)


def _discriminate(labels, n=3):
    return build_discriminator("fcgan", conditional=True, num_classes=10, ndf=8)(torch.zeros(n, 1, 28, 28), labels)


def _unconditional(call):
    def run(labels, n=3):
        if call == "forward":
            return build_generator("dcgan", ngf=4)(torch.zeros(n, 96), labels)
        if call == "sample":
            return build_generator("dcgan", ngf=4).sample(n, labels=labels)
        return build_discriminator("dcgan", ndf=4)(torch.zeros(n, 1, 28, 28), labels)
    return run


BAD_LABELS = [
    (_forward, torch.tensor([0, 1, 10]), r"label 10 is out of range: this network has 10 classes, 0\.\.9"),
    (_forward, torch.tensor([-1, 1, 2]), r"label -1 is out of range"),
    (_forward, torch.tensor([0.0, 1.0, 2.0]), r"dtype int64 \(torch\.long\), got torch\.float32"),
    (_forward, torch.tensor([0, 1, 2], dtype=torch.int32), r"dtype int64 \(torch\.long\), got torch\.int32"),
    (_forward, torch.tensor([[0], [1], [2]]), r"shape \(3,\), one class index per image, got \(3, 1\)"),
    (_forward, torch.tensor([0, 1]), r"shape \(3,\), one class index per image, got \(2,\)"),
    (_forward, [0, 1, 2], r"int64 tensor of shape \(3,\), got list"),
    (_forward, None, r"this network is conditional: pass labels"),
    (_sample, 10, r"label 10 is out of range"),
    (_sample, "Sneakers", r"unknown class 'Sneakers'; the classes are \['T-shirt/top'"),
    (_sample, ["Bag", "Hat", "Bag"], r"unknown class 'Hat'"),
    (_sample, [1, 2], r"shape \(3,\), one class index per image, got \(2,\)"),
    (_sample, 2.0, r"labels must be a class index, a class name, a list of them or an integer tensor, got float"),
    (_sample, [1, 2.5, 3], r"a label must be a class index \(int\) or a class name \(str\), got 2\.5"),
    (_sample, True, r"a label must be a class index \(int\) or a class name \(str\), got True"),
    (_sample, torch.tensor([0.5, 1, 2]), r"class indices \(an integer tensor\), got dtype torch\.float32"),
    (_discriminate, torch.tensor([0, 10, 2]), r"label 10 is out of range"),
    (_discriminate, torch.tensor([0.0, 1.0, 2.0]), r"dtype int64"),
    (_discriminate, None, r"this network is conditional: pass labels"),
    (_unconditional("forward"), torch.tensor([0, 1, 2]), r"this generator is unconditional and takes no labels"),
    (_unconditional("sample"), 7, r"this generator is unconditional and takes no labels"),
    (_unconditional("discriminator"), torch.tensor([0, 1, 2]), r"this discriminator is unconditional"),
]


@pytest.mark.parametrize("call, labels, message", BAD_LABELS)
def test_bad_labels_are_one_clear_value_error(call, labels, message):
    with pytest.raises(ValueError, match=message):
        call(labels)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"num_classes": 1}, ValueError, r"num_classes must be an int >= 2, got 1"),
    ({"num_classes": 3, "classes": ("a", "b")}, ValueError, r"num_classes=3 but 2 class names"),
    ({"classes": ("a", "a")}, ValueError, r"at least 2 distinct classes"),
    ({"classes": "ab"}, ValueError, r"sequence of class names"),
    ({"embed_dim": 0}, ValueError, r"embed_dim must be >= 1"),
    ({"ndf": 4}, TypeError, r"unknown keyword\(s\) \['ndf'\]; it accepts \['nz', 'ngf'"),
])
def test_bad_conditional_keywords(kwargs, error, message):
    with pytest.raises(error, match=message):
        build_generator("dcgan", conditional=True, **kwargs)


def test_hub_entry_points_build_conditional_networks():
    generator = gan_models.dcgan(conditional=True, classes=FASHION, ngf=4)
    discriminator = gan_models.dcgan_discriminator(conditional=True, num_classes=10, ndf=4)
    assert isinstance(generator, ConditionalGenerator) and isinstance(discriminator, ProjectionDiscriminator)
    images = generator.sample(4, labels="Bag", seed=0)
    assert discriminator(images, torch.full((4,), 8)).shape == (4, 1)
    with pytest.raises(NoPretrainedWeightsError, match=r"no pretrained weights for conditional 'fcgan' on 'mnist'"):
        gan_models.fcgan(pretrained=True, conditional=True)
