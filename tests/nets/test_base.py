"""gan_models/nets/base.py: the contract every network keeps (shapes, ranges, input checks, sampling), checked on
every registered model."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gan_models.data import to_uint8
from gan_models.nets import dcgan
from gan_models.noise import sample_noise
from gan_models.registry import (
    MODELS,
    build_discriminator,
    build_generator,
)
from tests.helpers import DOCUMENTED, SMALL_NETS

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
    discriminator = dcgan.Discriminator(ndf=4, channels=1)
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


@settings(max_examples=50, deadline=None)
@given(name=st.sampled_from(sorted(SMALL_NETS)),
       shape=st.one_of(st.just("right"), st.lists(st.integers(0, 4), max_size=5)),
       batch=st.integers(0, 3), dtype=st.sampled_from([torch.float32, torch.float64, torch.float16, torch.int64,
                                                        torch.uint8, torch.bool]),
       device=st.sampled_from(["cpu", "meta"]), training=st.booleans(), discriminator=st.booleans())
def test_networks_reject_wrong_inputs_with_documented_errors(name, shape, batch, dtype, device, training,
                                                             discriminator):
    net = SMALL_NETS[name][int(discriminator)].train(training)
    if shape == "right":
        shape = [batch, 1, 28, 28] if discriminator else [batch, net.nz]
    try:
        out = net(torch.zeros(shape, dtype=dtype, device=device))
    except DOCUMENTED:
        return
    assert dtype == torch.float32 and device == "cpu"
    assert out.shape == ((shape[0], 1) if discriminator else (shape[0], 1, 28, 28))


@settings(max_examples=25, deadline=None)
@given(value=st.one_of(st.just(None), st.text(max_size=2), st.lists(st.floats(), max_size=3),
                       st.builds(np.zeros, st.just((2, 4)))))
def test_generators_reject_non_tensors(value):
    with pytest.raises(TypeError):
        SMALL_NETS["fcgan"][0](value)


def test_weights_of_another_model_are_refused_in_one_short_line():
    fcgan = build_generator("fcgan")
    with pytest.raises(RuntimeError) as caught:
        fcgan.load_state_dict(build_generator("dcgan").state_dict())  # 23 keys, none of them fcgan's 6
    assert str(caught.value) == (
        "these weights do not fit Generator (6 keys): 6 missing (net.0.weight, net.0.bias, net.3.weight, ...); "
        "23 unexpected (project.0.weight, project.0.bias, project.2.weight, ...); are they another model's, or of "
        "other widths?")
    with pytest.raises(RuntimeError, match=r"^these weights do not fit Discriminator \(6 keys\): 5 of another shape "
                                           r"\(net.1.weight \(16, 784\) for \(256, 784\), "):
        build_discriminator("fcgan").load_state_dict(build_discriminator("fcgan", ndf=16).state_dict())
    fcgan.load_state_dict(build_generator("fcgan").state_dict())  # a fitting one still loads


def _tiny_dcgan() -> dcgan.Generator28:
    torch.manual_seed(0)
    return dcgan.Generator28(nz=8, ngf=4)


def test_sample_draws_cpu_noise_from_the_seed_or_the_generator_given():
    generator = _tiny_dcgan()
    images = generator.sample(4, seed=3)
    z = sample_noise(4, 8, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert torch.equal(images, generator.eval()(z))
    assert torch.equal(generator.sample(4, generator=torch.Generator().manual_seed(3)), images)
    assert torch.equal(generator.sample(4, seed=3, device="cpu"), images)
    rng = torch.Generator().manual_seed(3)
    assert not torch.equal(generator.sample(4, generator=rng), generator.sample(4, generator=rng))  # it advances


@pytest.mark.parametrize("kwargs, error, message", [
    ({"seed": 1, "generator": torch.Generator()}, ValueError, "give seed or generator, not both"),
    ({"generator": 3}, TypeError, "generator must be a torch.Generator, got int"),
    ({"generator": torch.Generator(), "device": "meta"}, ValueError, "the generator draws on cpu, not on device="),
    ({"output": "numpy"}, ValueError, r"unknown output 'numpy'; choose one of \['tensor', 'uint8', 'pil'\]"),
    ({"truncation": 0}, ValueError, "truncation must be a finite number > 0"),
    ({"truncation": "0.5"}, TypeError, "truncation must be a number"),
])
def test_sample_refuses_bad_options_by_name(kwargs, error, message):
    with pytest.raises(error, match=message):
        _tiny_dcgan().sample(2, **kwargs)


@pytest.mark.parametrize("dtype, tolerance", [(torch.float16, 0.02), (torch.bfloat16, 0.1)])
def test_half_and_bfloat16_generators_sample_in_their_dtype(dtype, tolerance):
    generator = _tiny_dcgan()
    reference = generator.sample(8, seed=0)
    images = generator.to(dtype).sample(8, seed=0)
    assert images.dtype == dtype and images.shape == (8, 1, 28, 28)
    assert (images.float() - reference).abs().max() < tolerance  # the same noise, in the weights' dtype
    pixels = generator.sample(8, seed=0, output="uint8")
    assert pixels.dtype == torch.uint8
    assert (pixels.int() - to_uint8(reference).int()).abs().max() <= tolerance * 128


def test_sample_outputs_uint8_and_pil_images_of_the_same_pixels():
    generator = _tiny_dcgan()
    images = generator.sample(3, seed=5)
    pixels = generator.sample(3, seed=5, output="uint8")
    assert torch.equal(pixels, to_uint8(images))
    pictures = generator.sample(3, seed=5, output="pil")
    assert [picture.mode for picture in pictures] == ["L"] * 3 and pictures[0].size == (28, 28)
    assert np.array_equal(np.stack([np.asarray(picture) for picture in pictures]), pixels[:, 0].numpy())
    colour = build_generator("dcgan64", ngf=4).sample(2, seed=0, output="pil")
    assert colour[0].mode == "RGB" and np.asarray(colour[1]).shape == (64, 64, 3)


def test_sample_truncates_the_noise_it_draws():
    generator = _tiny_dcgan()
    z = sample_noise(6, 8, generator=torch.Generator().manual_seed(2), truncation=0.5)
    assert z.abs().max() <= 0.5
    with torch.no_grad():
        assert torch.equal(generator.sample(6, seed=2, truncation=0.5), generator.eval()(z))
    assert not torch.equal(generator.sample(6, seed=2, truncation=0.5), generator.sample(6, seed=2))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (runs wherever it exists)")
@pytest.mark.parametrize("conditional", [False, True])
def test_one_seed_gives_the_same_images_on_cuda_and_cpu(conditional, monkeypatch):
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)  # TF32 convolutions differ by ~1e-3
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
    torch.manual_seed(0)
    generator = build_generator("dcgan", ngf=8, conditional=conditional)
    on_cpu = generator.sample(16, seed=7)
    on_cuda = generator.cuda().sample(16, seed=7)
    assert on_cuda.device.type == "cuda"
    assert (on_cuda.cpu() - on_cpu).abs().max() < 1e-4
    drawn_on_cuda = generator.sample(16, seed=7, device="cuda")  # CUDA's generator: other numbers for the seed
    assert (drawn_on_cuda.cpu() - on_cpu).abs().max() > 0.1
    assert torch.equal(generator.sample(16, generator=torch.Generator("cuda").manual_seed(7)), drawn_on_cuda)


def test_conditional_sample_takes_the_same_options():
    torch.manual_seed(0)
    generator = build_generator("dcgan", ngf=4, conditional=True)
    images = generator.sample(6, seed=1, truncation=0.8)
    assert torch.equal(generator.sample(6, generator=torch.Generator().manual_seed(1), truncation=0.8), images)
    z = sample_noise(6, generator.nz, generator=(rng := torch.Generator().manual_seed(1)), truncation=0.8)
    labels = torch.randint(10, (6,), generator=rng)  # drawn after the noise, from the same CPU generator
    with torch.no_grad():
        assert torch.equal(images, generator.eval()(z, labels))
    pictures = generator.sample(6, seed=1, truncation=0.8, output="pil")
    assert np.array_equal(np.stack([np.asarray(p) for p in pictures]), to_uint8(images)[:, 0].numpy())
    sneakers = generator.half().sample(3, seed=0, labels=7, output="uint8")
    assert sneakers.dtype == torch.uint8 and sneakers.shape == (3, 1, 28, 28)
