"""Labels through the pipeline: labelled datasets, batches keeping each label, labelled sampling, class metrics."""
import numpy as np
import pytest
import torch
from PIL import Image

from gan_models.batches import ImageBatches
from gan_models.data import load_digits, load_labelled_images
from gan_models.quality.metrics import class_quality, evaluate_generator
from gan_models.registry import build_generator
from gan_models.sampling import balanced_labels, generate, latent_walks


def test_batches_keep_each_image_with_its_label():
    images = torch.arange(40, dtype=torch.uint8).view(40, 1, 1, 1).expand(40, 1, 4, 4).contiguous()
    labels = torch.arange(40) * 3  # image i has pixel value i and label 3 i
    batches = ImageBatches(images, 8, labels=labels, seed=5)
    batches.set_epoch(2)
    pairs = list(batches)
    assert len(pairs) == 5
    seen = []
    for real, y in pairs:
        value = ((real[:, 0, 0, 0] + 1) * 127.5).round().long()  # back from [-1, 1] to the pixel value
        assert torch.equal(y, 3 * value)
        seen += value.tolist()
    assert sorted(seen) == list(range(40))
    resumed = list(batches.iterate(start_batch=3))  # a resumed epoch replays the same pairs
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(resumed, pairs[3:], strict=True))
    with pytest.raises(ValueError, match=r"labels must be an int64 tensor \(40,\), one per image"):
        ImageBatches(images, 8, labels=labels[:39])


def test_labelled_digits_come_with_their_class_names(data_root):
    images, labels, classes = load_labelled_images("fashion-mnist", data_root, split="test")
    assert images.shape == (10_000, 1, 28, 28) and labels.shape == (10_000,)
    assert classes[7] == "Sneaker" and len(classes) == 10
    assert torch.equal(labels, load_digits("fashion-mnist", data_root, split="test")[1])
    assert torch.bincount(labels).tolist() == [1000] * 10
    _, mnist_labels, mnist_classes = load_labelled_images("mnist", data_root, split="train")
    assert mnist_classes == tuple("0123456789") and len(mnist_labels) == 8000


def test_a_folder_of_class_subfolders_is_labelled_and_a_flat_one_is_refused(tmp_path):
    for name, colour in [("zebra", (0, 0, 0)), ("apple", (255, 0, 0))]:
        (tmp_path / name).mkdir()
        for i in range(2):
            Image.new("RGB", (8, 8), colour).save(tmp_path / name / f"{i}.png")
    (tmp_path / "apple" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.warns(UserWarning, match="broken.png"):
        images, labels, classes = load_labelled_images("folder", tmp_path, image_size=8)
    assert classes == ("apple", "zebra")  # sorted subfolder names give the label order
    assert labels.tolist() == [0, 0, 1, 1]  # the unreadable apple is skipped with its label
    assert images[:, 0, 4, 4].tolist() == [255, 255, 0, 0]
    Image.new("RGB", (8, 8)).save(tmp_path / "loose.png")
    with pytest.raises(ValueError, match=rf"but the folder {tmp_path} has images outside class subfolders"), \
            pytest.warns(UserWarning):
        load_labelled_images("folder", tmp_path, image_size=8)


def test_unlabelled_datasets_are_refused_in_one_line(tmp_path):
    message = (r"^a conditional GAN needs labelled images, but celeba has no class labels; "
               r"use mnist, fashion-mnist or a folder with one subfolder of images per class$")
    with pytest.raises(ValueError, match=message):
        load_labelled_images("celeba", tmp_path)  # refused before looking for the files


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
    from gan_models.noise import interpolate_latents, sample_noise
    ends = sample_noise(6, 4, generator=torch.Generator().manual_seed(1))
    z = interpolate_latents(ends[:3], ends[3:], 4).reshape(12, 4)
    with torch.no_grad():
        expected = generator(z, torch.tensor([9, 0, 9]).repeat_interleave(4))
    assert (walks - expected).abs().max() < 1e-6


def test_class_quality_by_hand():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(40, 3))
    reference_labels = np.repeat([0, 1], 20)
    # Class 0's images are predicted right 3 times in 4, class 1's always; features equal the reference's.
    probabilities = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.2, 0.8]] + [[0.1, 0.9]] * 4)
    features = np.concatenate([reference[:4], reference[20:24]])
    labels = np.array([0] * 4 + [1] * 4)
    quality = class_quality(features, probabilities, labels, reference, reference_labels)
    assert quality.per_class_accuracy == [0.75, 1.0]
    assert quality.class_accuracy == pytest.approx(0.875)
    assert quality.per_class_frechet_distance[0] > 0
    same = class_quality(reference, np.eye(2)[reference_labels], reference_labels, reference, reference_labels)
    assert same.per_class_frechet_distance == pytest.approx([0.0, 0.0], abs=1e-9)
    assert same.class_accuracy == 1.0
    with pytest.raises(ValueError, match="class 1 has 1 images and 20 reference images"):
        class_quality(features[:5], probabilities[:5], labels[:5], reference, reference_labels)


def test_evaluate_measures_a_conditional_generator_class_by_class(data_root):
    torch.manual_seed(0)
    generator = build_generator("fcgan", conditional=True, ngf=8)
    report = evaluate_generator(generator, "mnist", data_root, n_samples=200, seed=0)
    assert report.samples == 200
    assert len(report.generated_classes.per_class_accuracy) == 10
    # Real train images with their own labels: the classifier's own accuracy, far above an untrained generator's.
    assert report.real_classes.class_accuracy > 0.95
    assert report.generated_classes.class_accuracy < 0.5
    assert report.real_classes.intra_class_frechet_distance < report.generated_classes.intra_class_frechet_distance
    unconditional = evaluate_generator(build_generator("fcgan", ngf=8), "mnist", data_root, n_samples=200, seed=0)
    assert unconditional.generated_classes is None
    assert unconditional.real == report.real  # the floor does not depend on the generator
    with pytest.raises(ValueError, match="the generator has 3 classes, the mnist classifier 10"):
        evaluate_generator(build_generator("fcgan", conditional=True, num_classes=3, ngf=8), "mnist", data_root,
                           n_samples=20)
