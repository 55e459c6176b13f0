"""Image size is a choice (issue 20 item 2): dcgan at 28, 32, 64 and 128 builds, trains, exports and validates;
the data is centre-cropped and resized to the size, and the run says so in one line."""
import numpy as np
import pytest
import torch
from PIL import Image

from gan_models.data import load_images
from gan_models.image_decoding import ResizeLog, recording_resizes
from gan_models.registry import build_discriminator, build_generator
from gan_models.training.config import TrainConfig
from gan_models.training.trainer import train
from tests.helpers import one_error_line, run_cli

SIZES = (28, 32, 64, 128)


def _folder(path, count: int, width: int, height: int, seed: int = 0):
    """`count` random RGB images of width x height in `path`."""
    path.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for index in range(count):
        Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(path / f"{index}.png")
    return path


def _tiny(size: int, folder, **changes) -> TrainConfig:
    return TrainConfig(**{"model": "dcgan", "dataset": "folder", "data_root": str(folder), "image_size": size,
                          "ngf": 2, "ndf": 2, "batch_size": 4, "epochs": 1, "progress": False, **changes})


def test_a_resize_log_says_what_was_resized_in_one_line():
    log = ResizeLog()
    assert not log
    log.counts[28, 28, 32] += 60_000
    assert log.summary("mnist images") == "resized 60,000 mnist images of 28 x 28 to 32 x 32"
    log = ResizeLog()
    log.counts[96, 64, 64] += 300
    assert log.summary("folder images", total=310) == ("resized 300 of 310 folder images of 96 x 64 to 64 x 64 "
                                                       "(centre crop)")
    log.counts[32, 32, 64] += 5
    log.counts[10, 20, 64] += 2
    log.counts[20, 10, 64] += 1
    assert log.summary() == ("resized 308 images of 4 sizes (300 of 96 x 64, 5 of 32 x 32, 2 of 10 x 20, 1 more sizes) "
                             "to 64 x 64 (303 not square: centre crop)")


def test_folder_images_are_centre_cropped_to_square_then_resized_and_counted(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    wide = np.zeros((4, 12, 3), dtype=np.uint8)  # 12 x 4: black, a white 4 x 4 centre square
    wide[:, 4:8] = 255
    Image.fromarray(wide).save(folder / "wide.png")
    Image.new("RGB", (8, 8), (0, 0, 255)).save(folder / "same.png")  # already 8 x 8: not resized, not counted
    with recording_resizes() as resized:
        images = load_images("folder", folder, image_size=8, channels=3)
    assert images.shape == (2, 3, 8, 8)
    assert images[1].min() == 255  # wide.png (sorted after same.png): only its white centre square is kept
    assert images[0, 2].min() == 255 and images[0, :2].max() == 0
    assert resized.summary("folder images", total=2) == "resized 1 of 2 folder images of 12 x 4 to 8 x 8 (centre crop)"
    with recording_resizes() as outside:
        pass
    load_images("folder", folder, image_size=4, channels=3)  # not recording: nothing is counted anywhere
    assert not outside


@pytest.mark.parametrize("size", SIZES)
def test_each_size_builds_both_networks_and_their_conditional_versions(size):
    generator, discriminator = build_generator("dcgan", image_size=size, ngf=2), \
        build_discriminator("dcgan", image_size=size, ndf=2)
    images = generator.sample(3, seed=0)
    assert images.shape == (3, generator.channels, size, size) and discriminator(images).shape == (3, 1)
    cgen = build_generator("dcgan", conditional=True, image_size=size, ngf=2, num_classes=10)
    cdis = build_discriminator("dcgan", conditional=True, image_size=size, ndf=2, num_classes=10)
    labels = torch.arange(3)
    assert cdis(cgen.sample(3, seed=0, labels=labels), labels).shape == (3, 1)
    # ConditionalGenerator: body(nz + embed_dim) + a 10 x 10 embedding; projection D: body + 10 x F, where F is
    # DCGAN-28's 32 * ndf features, or the 4 x 4 map of size / 8 * ndf channels feeding Radford et al.'s last conv.
    count = lambda module: sum(p.numel() for p in module.parameters())  # noqa: E731
    body = build_generator("dcgan", image_size=size, ngf=2, nz=generator.nz + 10)
    features = 32 * 2 if size == 28 else size // 8 * 2 * 4 * 4
    assert count(cgen) == count(body) + 10 * 10
    assert count(cdis) == count(discriminator) + 10 * features


def test_the_run_config_takes_the_size_and_the_defaults_of_the_network_it_picks():
    at_64 = TrainConfig(model="dcgan", image_size=64).resolved()
    assert (at_64.nz, at_64.lr_g, at_64.lr_d) == (100, 2e-4, 2e-4)  # dcgan64's: the same network
    assert at_64.generator_kwargs()["image_size"] == at_64.discriminator_kwargs()["image_size"] == 64
    at_28 = TrainConfig(model="dcgan").resolved()
    assert (at_28.nz, at_28.lr_g, at_28.image_size) == (96, 1e-3, None)
    assert "image_size" not in at_28.generator_kwargs()  # older runs' checkpoints and configs stay as they were
    with pytest.raises(ValueError, match=r"dcgan builds images of size 28, 32, 64, 128 only, not 48"):
        TrainConfig(model="dcgan", image_size=48).resolved()


def test_the_command_line_takes_image_size_and_refuses_a_size_in_one_line(tmp_path):
    help_text = " ".join(run_cli("train", "--help").output.split())
    assert "--image-size INTEGER image height and width" in help_text and "28 (64 for dcgan64)" in help_text
    line = one_error_line(run_cli("train", "--model", "dcgan64", "--image-size", "128", "--out", tmp_path / "run"))
    assert line == "Error: dcgan64 builds images of size 64 only, not 128; dcgan builds them (image_size=128)"


def test_a_run_prints_what_it_resized_once(tmp_path, capsys):
    folder = _folder(tmp_path / "images", 6, 48, 40)
    result = train(_tiny(32, folder), tmp_path / "run")
    lines = capsys.readouterr().out.splitlines()
    assert lines.count("resized 6 folder images of 48 x 40 to 32 x 32 (centre crop)") == 1
    assert result.step == 1  # 6 images, batches of 4


def test_mnist_at_32_is_resized_from_28_and_says_so(tmp_path, capsys, data_root):
    config = TrainConfig(model="dcgan", dataset="mnist", data_root=str(data_root), split="test", image_size=32,
                         ngf=2, ndf=2, batch_size=4, max_images=8, epochs=1, progress=False)
    result = train(config, tmp_path / "run")
    loaded = len(load_images("mnist", data_root, split="test"))  # all of the split is loaded, then cut to 8
    assert f"resized {loaded:,} mnist images of 28 x 28 to 32 x 32" in capsys.readouterr().out.splitlines()
    assert result.step == 2


@pytest.mark.parametrize("size, upsample", [*((size, None) for size in SIZES),
                                            *((size, "resize") for size in SIZES[1:])])  # resize-conv: not at 28
def test_each_size_trains_a_few_steps_then_exports_to_validated_onnx(tmp_path, size, upsample):
    from gan_models.export import EXPORTERS, export_onnx, from_checkpoint, read_metadata, validate_onnx

    folder = _folder(tmp_path / "images", 8, 96, 64)
    result = train(_tiny(size, folder, channels=3, upsample=upsample), tmp_path / "run")
    assert result.step == 2 and all(np.isfinite(result.last[key]) for key in ("errD", "errG"))
    source = from_checkpoint(result.checkpoint)
    assert source.generator.image_shape == (3, size, size)
    assert any(isinstance(m, torch.nn.Upsample) for m in source.generator.modules()) == (upsample == "resize")
    for exporter in EXPORTERS:
        path = export_onnx(source.generator, tmp_path / f"{exporter}.onnx", exporter=exporter,
                           **source.export_kwargs())
        report = validate_onnx(path, source.generator)
        assert read_metadata(path)["image_shape"] == f"3,{size},{size}"
        cpu = report.providers[0]
        assert cpu.status == "passed" and max(b.max_abs_diff for b in cpu.batches) <= 1e-5, exporter
