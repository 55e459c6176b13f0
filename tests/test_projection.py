"""gan_models.project: Adam on z finds latents whose images reproduce the target, best restart and class kept."""
import pytest
import torch

import gan_models
from gan_models.projection import project, project_all
from gan_models.registry import build_generator


def _generator(conditional: bool = False, noise: str = "normal"):
    """A small fresh FC-GAN generator (nz=4, ngf=16), seeded, in eval mode."""
    torch.manual_seed(0)
    return build_generator("fcgan", conditional=conditional, nz=4, ngf=16, noise=noise).eval()


def _mse(a, b):
    return (a - b).pow(2).flatten(1).mean(dim=1)


def test_an_image_the_generator_made_is_recovered():
    generator = _generator()
    z_true = torch.randn(3, 4, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        target = generator(z_true)
    z, reconstruction, loss = project(generator, target, steps=150, restarts=3)
    error = _mse(reconstruction, target)
    random_error = _mse(generator.sample(3, seed=9), target)
    assert z.shape == (3, 4) and reconstruction.shape == (3, 1, 28, 28) and loss.shape == (3,)
    assert error.max() < 1e-3 and error.max() < random_error.min() / 20
    assert torch.allclose(loss, error, atol=1e-6)  # no classifier: the loss is the pixel MSE of the result


def test_the_best_restart_is_kept_and_a_seed_repeats_it():
    generator = _generator()
    target = torch.rand(1, 1, 28, 28, generator=torch.Generator().manual_seed(1)) * 2 - 1
    best = project(generator, target, steps=30, restarts=4, seed=3)
    singles = []
    for restart in range(4):  # each restart alone: the same rows of the batch, with their starting latents
        start = torch.randn(4, 4, generator=torch.Generator().manual_seed(3))[restart]
        assert best.loss.item() <= _descend_from(generator, target, start).item() + 1e-6
        singles.append(_descend_from(generator, target, start).item())
    assert best.loss.item() == pytest.approx(min(singles), abs=1e-6)
    again = project(generator, target, steps=30, restarts=4, seed=3)
    assert torch.equal(again.z, best.z) and torch.equal(again.loss, best.loss)
    assert not torch.equal(project(generator, target, steps=30, restarts=4, seed=4).z, best.z)


def _descend_from(generator, target, start):
    """The loss one restart reaches: Adam (as project) from `start` (nz,)."""
    z = start.clone().unsqueeze(0).requires_grad_(True)
    optimizer = torch.optim.Adam([z], lr=0.05)
    for _ in range(30):
        optimizer.zero_grad()
        _mse(generator(z), target).sum().backward()
        optimizer.step()
    with torch.no_grad():
        return _mse(generator(z), target)[0]


def test_uniform_noise_stays_in_its_support():
    generator = _generator(noise="uniform")
    target = -torch.ones(1, 1, 28, 28)  # pulls z far out if nothing holds it
    z, _, _ = project(generator, target, steps=40, restarts=2, lr=0.5)
    assert z.abs().max() <= 1


def test_a_conditional_generator_with_a_class_keeps_it_and_without_finds_the_right_one():
    generator = _generator(conditional=True)
    z_true = torch.randn(2, 4, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        target = generator(z_true, torch.tensor([3, 7]))
    given = project(generator, target, labels=[3, 7], steps=100, restarts=2)
    assert given.labels.tolist() == [3, 7] and _mse(given.reconstruction, target).max() < 1e-3
    searched = project(generator, target, steps=100, restarts=2)
    assert searched.loss.max() <= given.loss.max() + 1e-6  # the search includes the true classes
    assert searched.loss.max() < 1e-3
    wrong = project(generator, target, labels=0, steps=100, restarts=2)
    assert searched.loss.max() < wrong.loss.min()


def test_project_all_equals_project_over_batches_and_is_public():
    generator = _generator(conditional=True)
    target = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(1)) * 2 - 1
    whole = project(generator, target, labels=[1, 2, 3], steps=5, restarts=1)
    split = project_all(generator, target, labels=torch.tensor([1, 2, 3]), batch_size=3, steps=5, restarts=1)
    assert torch.equal(whole.z, split.z) and split.labels.tolist() == [1, 2, 3]
    assert gan_models.project is project


def test_a_classifier_adds_its_feature_distance_to_the_loss():
    from gan_models.quality.classifier import Classifier

    generator = _generator()
    torch.manual_seed(0)
    classifier = Classifier((1, 28, 28)).eval()
    target = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(1)) * 2 - 1
    result = project(generator, target, classifier=classifier, feature_weight=2.0, steps=5, restarts=1)
    with torch.no_grad():
        features = (classifier.features(result.reconstruction) - classifier.features(target)).pow(2).mean(dim=1)
    assert torch.allclose(result.loss, _mse(result.reconstruction, target) + 2.0 * features, atol=1e-5)
    assert all(p.requires_grad and p.grad is None for p in [*generator.parameters(), *classifier.parameters()])


@pytest.mark.parametrize("image, message", [
    (torch.zeros(3, 28, 28), "must have shape (1, 28, 28)"),
    (torch.zeros(1, 32, 32), "must have shape (1, 28, 28)"),
    (torch.full((1, 28, 28), 2.0), "in [-1, 1]"),
])
def test_bad_images_are_refused(image, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        project(_generator(), image, steps=1, restarts=1)


def test_labels_for_an_unconditional_generator_are_refused():
    with pytest.raises(ValueError):
        project(_generator(), torch.zeros(1, 28, 28), labels=3, steps=1, restarts=1)
