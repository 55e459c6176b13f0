"""Where datasets are looked for, and the error when they are not there. Torch-free, like the dataset facts.

The data root is a loader's `root` argument, else the environment variable GAN_MODELS_DATA, else
`./data`. gan_models.data and gan_models.emoji both read their files below it.
"""
import os
from pathlib import Path

DATA_ROOT_ENV = "GAN_MODELS_DATA"
SPLITS = ("train", "test", "all")  # a dataset's train split, its test split, or both merged


class DatasetNotFoundError(FileNotFoundError):
    """The requested images are not where we looked; the message says where and how to fix it."""


def default_root() -> Path:
    """The data root: $GAN_MODELS_DATA if set, else ./data."""
    return Path(os.environ.get(DATA_ROOT_ENV) or "data")


def resolve_root(root: str | os.PathLike | None) -> Path:
    """`root` as a Path, or `default_root()` when it is None."""
    return Path(root) if root is not None else default_root()


def missing_data_hint(download_possible: bool) -> str:
    """The end of a "dataset not found" error: how to point gan-models at the data (or fetch it, if it can)."""
    hint = f"pass --data-root (or set {DATA_ROOT_ENV}) to the folder that holds it"
    return f"{hint}, or pass --download to fetch it" if download_possible else hint
