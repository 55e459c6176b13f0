"""Batched generation: independent of batch size, uint8 output, NaN refused; latent walks."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gan_models
from gan_models.data import to_uint8
from gan_models.noise import interpolate_latents, sample_noise
from gan_models.registry import build_generator
from gan_models.sampling import LATENT_CHUNK, WALK_BATCH, balanced_labels, generate, latent_walks
from tests.helpers import DOCUMENTED, ODD_VALUES, SMALL_NETS


def test_image_i_does_not_depend_on_n_or_batch_size():
    generator = gan_models.fcgan(nz=8, ngf=16)
    first = generate(generator, 40, seed=3, batch_size=3)
    assert first.dtype == torch.uint8 and first.shape == (40, 1, 28, 28)
    assert torch.equal(first, generate(generator, 40, seed=3, batch_size=40))
    assert torch.equal(first, generate(generator, LATENT_CHUNK + 5, seed=3, batch_size=7)[:40])
    assert not torch.equal(first, generate(generator, 40, seed=4))


def test_generate_matches_the_generator_in_eval_mode():
    generator = gan_models.dcgan(nz=8, ngf=4).train()
    images = generate(generator, 5, seed=0)
    assert generator.training  # mode restored
    z = torch.Generator().manual_seed(0)
    latents = torch.randn(LATENT_CHUNK, 8, generator=z)[:5]
    assert torch.equal(images, to_uint8(generator.eval()(latents)))


def test_non_finite_output_is_refused():
    generator = gan_models.fcgan(nz=4, ngf=8)
    with torch.no_grad():
        generator.net[0].bias.fill_(float("nan"))
    with pytest.raises(ValueError, match="NaN or inf"):
        generate(generator, 3)


def test_latent_walks_start_and_end_at_their_endpoints():
    start, end = torch.randn(3, 6), torch.randn(3, 6)
    for kind in ("normal", "uniform"):
        walk = interpolate_latents(start, end, 5, kind)
        assert walk.shape == (3, 5, 6)
        assert torch.allclose(walk[:, 0], start, atol=1e-5) and torch.allclose(walk[:, -1], end, atol=1e-5)
    assert latent_walks(gan_models.fcgan(nz=6, ngf=8), walks=2, frames=4).shape == (8, 1, 28, 28)


def test_latent_walks_run_the_generator_in_bounded_batches(monkeypatch):
    generator = gan_models.fcgan(nz=6, ngf=8)
    whole = latent_walks(generator, walks=70, frames=8)
    seen = []
    forward = type(generator).forward
    monkeypatch.setattr(type(generator), "forward", lambda self, z: seen.append(len(z)) or forward(self, z))
    assert torch.equal(latent_walks(generator, walks=70, frames=8), whole)  # 560 images, same values
    assert seen == [WALK_BATCH, WALK_BATCH, 560 - 2 * WALK_BATCH]


@settings(max_examples=50, deadline=None)
@given(n=ODD_VALUES, batch_size=st.one_of(st.integers(-2, 5), st.floats(allow_nan=True)),
       frames=st.one_of(st.integers(-2, 4), st.none()), which=st.sampled_from(["sample", "generate", "walks"]))
def test_sample_counts_give_documented_errors(n, batch_size, frames, which):
    generator = SMALL_NETS["fcgan"][0]
    try:
        if which == "sample":
            images = generator.sample(n, seed=0)
        elif which == "generate":
            images = generate(generator, n, seed=0, batch_size=batch_size)
        else:
            images = latent_walks(generator, n, frames=frames)
    except DOCUMENTED:
        return
    assert len(images) >= 1


def test_generate_draws_each_image_of_its_label():
    torch.manual_seed(0)
    generator = build_generator("dcgan", conditional=True, ngf=4).eval()
    labels = torch.tensor([3, 1, 4, 1, 5])
    images = generate(generator, 5, seed=2, batch_size=2, labels=labels)
    sevens = generate(generator, 5, seed=2, labels=torch.full((5,), 7))
    assert (images.int() - sevens.int()).abs().max() > 0  # the labels were used
    for i, label in enumerate(labels.tolist()):
        one = generate(generator, 5, seed=2, labels=torch.full((5,), label))[i]
        assert torch.equal(images[i], one)  # image i depends on its own label only
    default = generate(generator, 12, seed=2)
    assert torch.equal(default, generate(generator, 12, seed=2, labels=balanced_labels(12, 10)))
    assert balanced_labels(12, 10).tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    with pytest.raises(ValueError, match=r"shape \(5,\), one class index per image, got \(4,\)"):
        generate(generator, 5, labels=labels[:4])
    with pytest.raises(ValueError, match="unconditional and takes no labels"):
        generate(build_generator("dcgan", ngf=4), 5, labels=labels)



def test_conditional_latent_walks_stay_in_one_class_per_row():
    torch.manual_seed(0)
    generator = build_generator("fcgan", conditional=True, ngf=8, nz=4).eval()
    walks = latent_walks(generator, 3, frames=4, seed=1, labels=torch.tensor([9, 0, 9]))
    assert walks.shape == (12, 1, 28, 28)
    ends = sample_noise(6, 4, generator=torch.Generator().manual_seed(1))
    z = interpolate_latents(ends[:3], ends[3:], 4).reshape(12, 4)
    with torch.no_grad():
        expected = generator(z, torch.tensor([9, 0, 9]).repeat_interleave(4))
    assert (walks - expected).abs().max() < 1e-6

