"""Small data (TrainConfig.for_data) on the collapse issue 20 recorded: DCGAN-64 with ngf and ndf 32, batch 32 and
an EMA of G, on 300 coloured shapes (scripts/make_shapes.py). Without augmentation its generator draws one grey
texture for every z by step 153 (measured: sample spread 0.027 of the real images'); under the small-data
defaults D sees the images through DiffAugment and G keeps drawing different images. Their spread depends on the
CPU's kernels, as 153 steps of a GAN do: 0.11 on AVX-512, 0.060 on AVX2 (AMD EPYC) and 0.088 under
ATEN_CPU_CAPABILITY=default; the collapsed run measured 0.027 on both machines. One bar, 0.05, separates them."""
import statistics

import pytest
import torch

from gan_models.data import load_images
from gan_models.sources import from_checkpoint
from gan_models.training.config import TrainConfig
from gan_models.training.trainer import train
from tests.helpers import REPO, read_log

RECORDED = dict(model="dcgan64", dataset="folder", ngf=32, ndf=32, batch_size=32, ema_decay=0.999, epochs=17,
                progress=False)  # 17 epochs of 9 steps: 153
COLLAPSED_SPREAD = 0.05  # below it, G draws about one image whatever z


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    import sys

    sys.path.insert(0, str(REPO / "scripts"))
    from make_shapes import make_shapes

    return make_shapes(tmp_path_factory.mktemp("shapes") / "shapes-300", 300)


def spread(images: torch.Tensor) -> float:
    """Mean over pixels of the standard deviation across images (N, C, H, W): 0 when every image is the same."""
    return images.float().std(0).mean().item()


def relative_spread(run, shapes) -> float:
    """The raw generator's sample spread (64 images, seed 0, eval mode) over the real images' spread."""
    generator = from_checkpoint(run / "checkpoint.pt", use_ema=False).generator
    real = load_images("folder", shapes, image_size=64).float() / 127.5 - 1
    return spread(generator.sample(64, seed=0)) / spread(real[:64])


def test_the_small_data_defaults_avoid_the_recorded_collapse(shapes, tmp_path, capsys):
    collapsing = train(TrainConfig(**RECORDED, data_root=str(shapes), diffaugment=""), tmp_path / "as-recorded")
    defaults = train(TrainConfig(**RECORDED, data_root=str(shapes)), tmp_path / "defaults")
    assert "300 images is small data (under 5,000): DiffAugment color,translation,cutout" in capsys.readouterr().out
    assert (collapsing.step, defaults.step) == (153, 153)
    assert relative_spread(tmp_path / "as-recorded", shapes) < COLLAPSED_SPREAD  # one image whatever z
    assert relative_spread(tmp_path / "defaults", shapes) > COLLAPSED_SPREAD
    d_of_fake = [float(row["D_G_z"]) for row in read_log(tmp_path / "defaults")]
    medians = [statistics.median(d_of_fake[end - 50:end]) for end in range(50, len(d_of_fake) + 1)]
    assert min(medians) > 0.01 and not defaults.warnings  # D never wins outright (the warning's bar)
