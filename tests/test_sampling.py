"""Batched generation: independent of batch size, uint8 output, NaN refused; latent walks."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gan_models
from gan_models.data import to_uint8
from gan_models.noise import interpolate_latents, sample_noise
from gan_models.registry import build_generator
from gan_models.sampling import (
    LATENT_CHUNK,
    WALK_BATCH,
    balanced_labels,
    class_labels,
    generate,
    latent_walks,
    seed_latents,
    walk,
)
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



def test_class_all_gives_n_images_in_class_order():
    generator = build_generator("fcgan", conditional=True, ngf=8, nz=4)
    labels = class_labels(generator, "all", 64)
    assert labels.shape == (64,) and torch.equal(labels, labels.sort().values)
    assert torch.bincount(labels).tolist() == [7, 7, 7, 7, 6, 6, 6, 6, 6, 6]  # the first 64 % 10 classes: one more
    assert torch.equal(class_labels(generator, "all", 80), torch.arange(10).repeat_interleave(8))
    assert class_labels(generator, "all", 3).tolist() == [0, 1, 2]


def test_generate_truncates_every_chunk_and_keeps_image_i_fixed():
    generator = gan_models.fcgan(nz=8, ngf=16)
    images = generate(generator, 20, seed=1, batch_size=7, truncation=0.6)
    z = sample_noise(LATENT_CHUNK, 8, generator=torch.Generator().manual_seed(1), truncation=0.6)[:20]
    with torch.no_grad():
        assert torch.equal(images, to_uint8(generator.eval()(z)))
    assert torch.equal(generate(generator, 5, seed=1, truncation=0.6), images[:5])
    with pytest.raises(ValueError, match="truncation must be a finite number > 0"):
        generate(generator, 5, truncation=-1.0)


def test_linear_walks_are_an_option_for_normal_noise():
    generator = gan_models.fcgan(nz=6, ngf=8)
    ends = sample_noise(4, 6, generator=torch.Generator().manual_seed(0))
    z = interpolate_latents(ends[:2], ends[2:], 5, method="linear").reshape(10, 6)
    with torch.no_grad():
        expected = generator.eval()(z)
    linear = latent_walks(generator, 2, frames=5, method="linear")
    assert (linear - expected).abs().max() < 1e-6
    assert (latent_walks(generator, 2, frames=5) - expected).abs().max() > 1e-3  # the default is slerp


def test_a_walk_through_chosen_seeds_passes_through_their_samples():
    generator = gan_models.dcgan(nz=8, ngf=4)
    path = walk(generator, [3, 7, 11], frames=4)
    assert path.shape == (7, 1, 28, 28)  # two legs of 4 frames sharing the middle stop
    for index, seed in ((0, 3), (3, 7), (6, 11)):
        assert (path[index] - generator.sample(1, seed=seed)[0]).abs().max() < 1e-5
    assert torch.equal(seed_latents(generator, [7]), sample_noise(1, 8, generator=torch.Generator().manual_seed(7)))
    truncated = walk(generator, [3, 7], frames=3, truncation=0.5)
    assert (truncated[0] - generator.sample(1, seed=3, truncation=0.5)[0]).abs().max() < 1e-5


def test_a_walk_between_classes_morphs_one_seed_from_class_to_class():
    torch.manual_seed(0)
    generator = build_generator("fcgan", conditional=True, ngf=8, nz=4)
    path = walk(generator, [5], labels=[3, 8], frames=5)
    assert path.shape == (5, 1, 28, 28)
    assert (path[0] - generator.sample(1, seed=5, labels=3)[0]).abs().max() < 1e-5
    assert (path[-1] - generator.sample(1, seed=5, labels=8)[0]).abs().max() < 1e-5
    z = seed_latents(generator, [5])
    middle = (generator.embed.weight[3] + generator.embed.weight[8]) / 2  # the embedding on the straight line
    with torch.no_grad():
        expected = generator.eval().body.generate(torch.cat([z, middle[None]], dim=1))
    assert (path[2] - expected[0]).abs().max() < 1e-5
    both = walk(generator, [5, 6], labels="7", frames=3)  # one class for every stop
    assert (both[-1] - generator.sample(1, seed=6, labels=7)[0]).abs().max() < 1e-5


@pytest.mark.parametrize("seeds, labels, conditional, message", [
    ([1], None, False, "a walk needs at least 2 stops"),
    ([1, 2, 3], [0, 1], True, "give one seed, or one per stop: 3 seeds for 2 classes"),
    ([1, 2], 3, False, "unconditional and takes no labels"),
    ([1, 2], None, True, "this generator is conditional: pass labels"),
    ([1, 2], ["Hat"], True, "unknown class 'Hat'"),
])
def test_bad_walks_are_refused_by_name(seeds, labels, conditional, message):
    generator = build_generator("fcgan", conditional=conditional, ngf=8, nz=4)
    with pytest.raises(ValueError, match=message):
        walk(generator, seeds, labels=labels)
