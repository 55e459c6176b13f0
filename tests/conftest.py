"""Shared fixtures: the bundled data root and tiny synthetic datasets."""
import os
from pathlib import Path

import pytest
import torch

from gan_models.data import DATA_ROOT_ENV


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real data (../shared/data in CI), from GAN_MODELS_DATA; tests that need it fail loudly without it."""
    root = os.environ.get(DATA_ROOT_ENV)
    if not root or not (Path(root) / "MNIST" / "raw").is_dir():
        pytest.fail(f"set {DATA_ROOT_ENV} to the folder holding MNIST/raw (../shared/data); .ci/run does this")
    return Path(root)


@pytest.fixture
def tiny_images() -> torch.Tensor:
    """64 random uint8 images (64, 1, 28, 28)."""
    return torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


def _hypothesis_profiles() -> None:
    """CI draws the same examples every run (a red build must be reproducible); local runs explore new ones."""
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, print_blob=True)
    if os.environ.get("CI"):
        settings.load_profile("ci")


_hypothesis_profiles()
