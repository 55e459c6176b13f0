"""gan_models/idx.py: MNIST-format raw files read without torchvision, to the same tensors torchvision reads."""
import subprocess
import sys

import pytest
import torch

from gan_models.data import load_digits
from gan_models.idx import read_idx
from tests.helpers import child_env


@pytest.mark.parametrize("name, split", [("mnist", "train"), ("mnist", "all"), ("fashion-mnist", "test")])
def test_digits_are_torchvisions_bit_for_bit(name, split, data_root):
    from torchvision import datasets

    cls = datasets.MNIST if name == "mnist" else datasets.FashionMNIST
    parts = [cls(str(data_root), train=train) for train in ([True, False] if split == "all" else [split == "train"])]
    images, labels = load_digits(name, data_root, split=split)
    assert images.dtype == torch.uint8 and labels.dtype == torch.int64
    assert torch.equal(images, torch.cat([p.data for p in parts]).unsqueeze(1))
    assert torch.equal(labels, torch.cat([p.targets for p in parts]).long())


def test_a_damaged_file_is_refused_naming_it(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 8, 3]) + (2).to_bytes(4, "big") * 3 + bytes(8))  # 2 x 2 x 2 images: 8 bytes
    assert read_idx(path).shape == (2, 2, 2)
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match=f"{path} is not an IDX file of unsigned bytes"):
        read_idx(path)


def test_training_on_mnist_imports_no_torchvision(tmp_path, data_root):
    """torchvision's import costs a short run more start-up than torch's own: loading, training, grids go without."""
    script = ("import sys\n"
              "from gan_models.training.trainer import TrainConfig, train\n"
              f"train(TrainConfig(nz=8, ngf=16, ndf=16, batch_size=16, max_images=32, epochs=1, progress=False,\n"
              f"                  data_root={str(data_root)!r}), {str(tmp_path / 'run')!r})\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torchvision'))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=child_env(), timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"  # after the run's one epoch line
    assert (tmp_path / "run" / "grids" / "epoch_0001.png").exists() and (tmp_path / "run" / "progress.png").exists()
