"""Inception FID: the project's figure equals pytorch-fid's own computation for the same weights file and images.

The real weights cannot be downloaded here, so the test writes a file of the exact FID InceptionV3
architecture with random values, and runs pytorch-fid on it the way its users do (weights in
torch's hub cache, images as PNG files).
"""
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from pytorch_fid import fid_score
from pytorch_fid import inception as pytorch_fid_inception

from gan_models.quality.frechet import feature_statistics, frechet_distance
from gan_models.quality.inception import FEATURE_DIMS, load_inception

pytestmark = pytest.mark.slow  # Inception at 299 x 299 on the CPU: a few seconds per dozen images

WEIGHTS_NAME = Path(pytorch_fid_inception.FID_WEIGHTS_URL).name


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory) -> Path:
    """A state dict of pytorch-fid's FID InceptionV3 with random values, in a hub cache of its own."""
    torch_home = tmp_path_factory.mktemp("torch-home")
    path = torch_home / "hub" / "checkpoints" / WEIGHTS_NAME
    path.parent.mkdir(parents=True)
    torch.manual_seed(0)
    network = pytorch_fid_inception._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    for name, block in (("Mixed_5b", pytorch_fid_inception.FIDInceptionA(192, pool_features=32)),
                        ("Mixed_5c", pytorch_fid_inception.FIDInceptionA(256, pool_features=64)),
                        ("Mixed_5d", pytorch_fid_inception.FIDInceptionA(288, pool_features=64)),
                        ("Mixed_6b", pytorch_fid_inception.FIDInceptionC(768, channels_7x7=128)),
                        ("Mixed_6c", pytorch_fid_inception.FIDInceptionC(768, channels_7x7=160)),
                        ("Mixed_6d", pytorch_fid_inception.FIDInceptionC(768, channels_7x7=160)),
                        ("Mixed_6e", pytorch_fid_inception.FIDInceptionC(768, channels_7x7=192)),
                        ("Mixed_7b", pytorch_fid_inception.FIDInceptionE_1(1280)),
                        ("Mixed_7c", pytorch_fid_inception.FIDInceptionE_2(2048))):
        setattr(network, name, block)
    with torch.no_grad():  # batch-norm statistics away from their 0/1 defaults, so every parameter matters
        for module in network.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    torch.save(network.state_dict(), path)
    return path


def _write_pngs(folder: Path, images: np.ndarray) -> torch.Tensor:
    """Save uint8 images (N, H, W) as PNGs; return them as the float tensor (N, 1, H, W) in [-1, 1] G would make."""
    folder.mkdir()
    for index, image in enumerate(images):
        Image.fromarray(image).save(folder / f"{index:03d}.png")
    return torch.from_numpy(images).float().unsqueeze(1) / 127.5 - 1


def test_inception_fid_equals_pytorch_fid_for_the_same_weights_and_images(random_weights, tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    real = _write_pngs(tmp_path / "real", rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8))
    fake = _write_pngs(tmp_path / "fake", (rng.random((12, 28, 28)) ** 2 * 255).astype(np.uint8))

    monkeypatch.setenv("TORCH_HOME", str(random_weights.parents[2]))
    expected = fid_score.calculate_fid_given_paths([str(tmp_path / "real"), str(tmp_path / "fake")], batch_size=12,
                                                   device="cpu", dims=FEATURE_DIMS, num_workers=0)

    features = load_inception(random_weights)
    ours = frechet_distance(*feature_statistics(features(real).double().numpy()),
                            *feature_statistics(features(fake).double().numpy()))
    assert abs(ours - expected) / expected < 1e-4


def test_inception_features_equal_pytorch_fid_activations(random_weights, monkeypatch):
    images = torch.rand(3, 1, 28, 28) * 2 - 1
    quantized = torch.round((images + 1) * 127.5) / 255
    monkeypatch.setenv("TORCH_HOME", str(random_weights.parents[2]))
    reference = pytorch_fid_inception.InceptionV3([3]).eval()
    with torch.no_grad():
        expected = reference(quantized.repeat(1, 3, 1, 1))[0].flatten(1)
    features = load_inception(random_weights)(images)
    assert features.shape == (3, FEATURE_DIMS)
    assert torch.allclose(features, expected, rtol=1e-5, atol=1e-6)


def test_a_missing_or_foreign_weights_file_is_one_line_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.pth: Inception weights not found"):
        load_inception(tmp_path / "nowhere.pth")
    foreign = tmp_path / "foreign.pth"
    torch.save({"weight": torch.zeros(3)}, foreign)
    with pytest.raises(ValueError, match="foreign.pth: not pytorch-fid's FID Inception weights"):
        load_inception(foreign)
