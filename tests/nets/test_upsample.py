"""Resize-convolution in Radford et al.'s DCGAN generator (issue 23): `upsample="resize"` doubles by nearest-neighbour
upsampling then a 3 x 3 conv (Odena et al. 2016) instead of a 4 x 4 stride-2 transposed conv; counted by hand, shown
to leave a constant map constant where the transposed conv paints a period-2 pattern, and carried from the command
line through configs, checkpoints, weight records and the hub to sampling."""
from dataclasses import asdict, replace

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

import gan_models
from gan_models import registry
from gan_models.nets import dcgan
from gan_models.registry import WeightRecord, build_generator
from gan_models.sampling import generate
from gan_models.sources import from_checkpoint
from gan_models.training.checkpoint import load_checkpoint
from gan_models.training.config import TrainConfig, config_differences
from tests.helpers import REPO, one_error_line, run_cli
from tests.nets.test_dcgan import GENERATOR_COUNTS, count

# The same networks with every doubling a bias-free 3 x 3 conv (c_in * c_out * 9 weights) after nearest-neighbour
# upsampling (no parameters); the first layer, 1 x 1 -> 4 x 4, stays a 4 x 4 transposed conv (100 * w * 16), and
# each BatchNorm2d of c channels holds 2 * c. nz=100, ngf=64, 3 channels.
RESIZE_COUNTS = {
    # 100 -> 256 at 4 x 4, 256 -> 128 at 8, 128 -> 64 at 16, 64 -> 3 at 32
    32: (100 * 256 * 16 + 2 * 256) + (256 * 128 * 9 + 2 * 128) + (128 * 64 * 9 + 2 * 64) + 64 * 3 * 9,
    # 100 -> 512 at 4, 512 -> 256 at 8, 256 -> 128 at 16, 128 -> 64 at 32, 64 -> 3 at 64
    64: (100 * 512 * 16 + 2 * 512) + (512 * 256 * 9 + 2 * 256) + (256 * 128 * 9 + 2 * 128)
        + (128 * 64 * 9 + 2 * 64) + 64 * 3 * 9,
    # 100 -> 1024 at 4, 1024 -> 512 at 8, 512 -> 256 at 16, 256 -> 128 at 32, 128 -> 64 at 64, 64 -> 3 at 128
    128: (100 * 1024 * 16 + 2 * 1024) + (1024 * 512 * 9 + 2 * 512) + (512 * 256 * 9 + 2 * 256)
         + (256 * 128 * 9 + 2 * 128) + (128 * 64 * 9 + 2 * 64) + 64 * 3 * 9,
}


def test_the_hand_derived_resize_counts_are_these_numbers():
    assert RESIZE_COUNTS == {32: 780_864, 64: 2_371_136, 128: 7_910_976}  # 64: as dcgan.Generator's docstring says
    # Against the transposed counts: each doubling's c_in * c_out kernels have 9 weights instead of 16.
    doublings = {32: [(256, 128), (128, 64), (64, 3)], 64: [(512, 256), (256, 128), (128, 64), (64, 3)],
                 128: [(1024, 512), (512, 256), (256, 128), (128, 64), (64, 3)]}
    assert {size: GENERATOR_COUNTS[size] - RESIZE_COUNTS[size] for size in doublings} == \
        {size: 7 * sum(c_in * c_out for c_in, c_out in pairs) for size, pairs in doublings.items()}


@pytest.mark.parametrize("size", [32, 64, 128])
def test_resize_parameter_counts_at_each_size_match_the_hand_derived_ones(size):
    assert count(dcgan.Generator(nz=100, channels=3, image_size=size, upsample="resize")) == RESIZE_COUNTS[size]
    assert count(dcgan.Generator(nz=100, channels=3, image_size=size, upsample="transpose")) == GENERATOR_COUNTS[size]


@pytest.mark.parametrize("size, doublings", [(32, 3), (64, 4), (128, 5)])
def test_resize_layers_and_output_shapes(size, doublings):
    generator = dcgan.Generator(ngf=4, image_size=size, upsample="resize").eval()
    layers = list(generator.net)
    first = layers[1]
    assert isinstance(first, nn.ConvTranspose2d) and (first.kernel_size, first.stride, first.padding) == \
        ((4, 4), (1, 1), (0, 0))  # 1 x 1 -> 4 x 4, as in the paper
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in layers[2:])
    ups = [i for i, m in enumerate(layers) if isinstance(m, nn.Upsample)]
    assert len(ups) == doublings and all(layers[i].scale_factor == 2 and layers[i].mode == "nearest" for i in ups)
    convs = [layers[i + 1] for i in ups]  # each Upsample is followed by its conv
    assert all(isinstance(c, nn.Conv2d) and (c.kernel_size, c.stride, c.padding) == ((3, 3), (1, 1), (1, 1))
               and c.bias is None for c in convs)
    assert [c.out_channels for c in convs] == [*dcgan._widths(4, size)[1:], 3]
    assert isinstance(layers[-1], nn.Tanh) and layers[-2] is convs[-1]  # the last doubling ends in conv + Tanh
    images = generator(torch.randn(3, 100))
    assert images.shape == (3, 3, size, size) and images.abs().max() <= 1


def test_transpose_is_the_default_network_and_the_shipped_resize_weights_load_as_resize():
    default, transpose = dcgan.Generator(ngf=2), dcgan.Generator(ngf=2, upsample="transpose")
    assert [(k, v.shape) for k, v in default.state_dict().items()] == \
        [(k, v.shape) for k, v in transpose.state_dict().items()]
    shipped = torch.hub.load(str(REPO), "dcgan64", source="local", pretrained=True)  # its record's upsample
    record = registry.find_weights("dcgan64", "emoji")
    assert record.generator_kwargs["upsample"] == "resize" and record.generator_kwargs["ngf"] == 32
    assert any(isinstance(m, nn.Upsample) for m in shipped.modules()) and count(shipped) == record.num_params
    with pytest.raises(ValueError, match=r"was built with upsample='resize' \(asked 'transpose'\)"):
        torch.hub.load(str(REPO), "dcgan64", source="local", pretrained=True, upsample="transpose")
    fresh = torch.hub.load(str(REPO), "dcgan64", source="local", upsample="resize")
    assert count(fresh) == RESIZE_COUNTS[64]


def test_an_unknown_upsample_names_the_choices():
    with pytest.raises(ValueError, match=r"^unknown upsample 'bilinear'; choose one of \['transpose', 'resize'\] "
                                         r"\(default transpose\)$"):
        dcgan.Generator(upsample="bilinear")
    with pytest.raises(ValueError, match="unknown upsample 'deconv'"):
        TrainConfig(model="dcgan64", upsample="deconv").resolved()


def _second_block(upsample: str) -> nn.Sequential:
    """The 8 -> 4 channel doubling block (4 x 4 -> 8 x 8 in the network) of a fresh Generator(ngf=2, image_size=32),
    its weights from Radford et al.'s init, BatchNorm and ReLU included, in eval mode."""
    torch.manual_seed(0)
    net = dcgan.Generator(ngf=2, image_size=32, upsample=upsample).net
    length = 3 if upsample == "transpose" else 4  # ConvTranspose2d, or Upsample and Conv2d; then BatchNorm2d, ReLU
    return nn.Sequential(*net[4:4 + length]).eval()


def _after_batchnorm_relu(block: nn.Sequential, pre: torch.Tensor) -> torch.Tensor:
    """What the block's BatchNorm2d (eval, running statistics) and ReLU make of pre-activations (4, ...)."""
    norm = block[-2]
    shape = (-1, *[1] * (pre.dim() - 1))
    return torch.relu((pre - norm.running_mean.view(shape)) / torch.sqrt(norm.running_var.view(shape) + norm.eps)
                      * norm.weight.view(shape) + norm.bias.view(shape))


@torch.no_grad()
def test_a_constant_map_stays_constant_through_resize_but_becomes_a_period_2_pattern_through_transpose():
    constant = torch.ones(1, 8, 8, 8)
    resize, transpose = _second_block("resize"), _second_block("transpose")
    interior = (slice(None), slice(None), slice(1, -1), slice(1, -1))  # both kernels reach 1 pixel into the padding

    # Resize: every interior output pixel sums all 9 taps of every input channel over the same constant.
    out = resize(constant)[interior]  # (1, 4, 14, 14)
    assert out.shape == (1, 4, 14, 14)
    assert out.std(dim=(-2, -1)).max() < 1e-6
    expected = _after_batchnorm_relu(resize, resize[1].weight.sum(dim=(1, 2, 3)))  # (4,)
    assert torch.allclose(out[0], expected.view(4, 1, 1).expand(4, 14, 14), atol=1e-6)

    # Transpose, ConvTranspose2d(4, stride 2, padding 1): output row y = 2 i - 1 + ky takes the taps ky = 1, 3 when
    # y is even and ky = 0, 2 when it is odd (the same across), so the interior is a 2 x 2 tiling of four sums of
    # 4 taps each, one per (row, column) parity, taken over the input channels.
    weight = transpose[0].weight  # (c_in 8, c_out 4, 4, 4)
    taps = {0: [1, 3], 1: [0, 2]}
    phases = torch.stack([torch.stack([weight[:, :, taps[py]][:, :, :, taps[px]].sum(dim=(0, 2, 3))
                                       for px in (0, 1)], dim=-1) for py in (0, 1)], dim=-2)  # (4, 2, 2)
    tile = _after_batchnorm_relu(transpose, phases).repeat(1, 8, 8)  # (4, 16, 16): parity (0, 0) at the top left
    out = transpose(constant)  # (1, 4, 16, 16)
    assert torch.allclose(out[interior], tile[None][interior], atol=1e-6)
    # The bound: the period-2 pattern's own spread, computed from the weights. The interior holds each parity
    # 7 x 7 times, so its standard deviation is that of the four phase values (after BatchNorm and ReLU, which
    # zeroes the negative ones: here all four of channel 3); N(0, 0.02) weights make each a sum of 32, some 0.02 *
    # sqrt(32) = 0.11 apart before ReLU, so the largest channel's spread is far from the resize block's < 1e-6.
    bound = tile[:, :2, :2].reshape(4, 4).std(dim=1, unbiased=False)  # (4,)
    measured = out[interior].std(dim=(-2, -1), unbiased=False)[0]
    assert torch.allclose(measured, bound, atol=1e-6) and bound.max() > 0.01


def test_an_older_config_without_upsample_reads_as_transpose_and_resumes():
    current = TrainConfig(model="dcgan64", dataset="emoji", ngf=2, ndf=2).resolved()
    saved = {name: value for name, value in asdict(current).items() if name != "upsample"}  # written before it existed
    config = TrainConfig.from_dict(saved)
    assert config.upsample is None and "upsample" not in config.resolved().generator_kwargs()
    generator = build_generator("dcgan64", **config.resolved().generator_kwargs())
    assert any(isinstance(m, nn.ConvTranspose2d) for m in generator.net[4:])
    assert config_differences(saved, current) == []  # so its run resumes
    assert config_differences(saved, replace(current, upsample="resize")) == ["upsample: None -> 'resize'"]
    resize = TrainConfig(model="dcgan", image_size=32, upsample="resize").resolved()
    assert resize.generator_kwargs()["upsample"] == "resize" and "upsample" not in resize.discriminator_kwargs()


@pytest.mark.parametrize("model, size, named", [("dcgan", None, "dcgan at 28"), ("dcgan", 28, "dcgan at 28"),
                                                ("fcgan", None, "fcgan"), ("lsgan", None, "lsgan")])
def test_upsample_is_refused_where_there_is_no_radford_generator(model, size, named):
    for upsample in ("resize", "transpose"):
        with pytest.raises(ValueError, match=rf"^upsample='{upsample}' applies to dcgan at 32, 64 or 128 and dcgan64 "
                                             rf"only \(Radford et al.'s generator\), not {named}; leave it out$"):
            TrainConfig(model=model, image_size=size, upsample=upsample).resolved()


def test_the_command_line_offers_upsample_and_refuses_it_for_dcgan_at_28_in_one_line(tmp_path):
    help_text = " ".join(run_cli("train", "--help").output.split())
    assert "--upsample [transpose|resize] how G doubles its feature maps" in help_text
    line = one_error_line(run_cli("train", "--model", "dcgan", "--upsample", "resize", "--out", tmp_path / "run"))
    assert line == ("Error: upsample='resize' applies to dcgan at 32, 64 or 128 and dcgan64 only (Radford et al.'s "
                    "generator), not dcgan at 28; leave it out")
    assert "Invalid value for '--upsample'" in one_error_line(run_cli("train", "--upsample", "bilinear"))


def test_a_weight_record_with_upsample_resize_builds_and_loads_it(tmp_path, monkeypatch):
    torch.manual_seed(0)
    generator = build_generator("dcgan64", ngf=4, upsample="resize")
    path, sha256 = registry.save_weights(generator.state_dict(), tmp_path, "dcgan64-emoji")
    record = WeightRecord(model="dcgan64", dataset="emoji", file=path.name, sha256=sha256,
                          generator_kwargs={"ngf": 4, "upsample": "resize"})
    monkeypatch.setattr(registry, "WEIGHTS_DIR", tmp_path)
    monkeypatch.setattr(registry, "WEIGHTS", (record,))
    loaded = gan_models.dcgan64(pretrained=True)
    assert count(loaded) == count(generator) and any(isinstance(m, nn.Upsample) for m in loaded.modules())
    z = torch.randn(2, 100)
    assert torch.equal(loaded(z), generator.eval()(z))


def test_a_resize_run_trained_from_the_command_line_samples_and_exports_from_its_checkpoint(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(8):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(folder / f"{index}.png")
    out = tmp_path / "run"
    trained = run_cli("train", "--model", "dcgan", "--image-size", 32, "--upsample", "resize", "--ngf", 2,
                      "--ndf", 2, "--dataset", "folder", "--data-root", folder, "--batch-size", 4, "--epochs", 1,
                      "--no-progress", "--out", out)
    assert trained.exit_code == 0, trained.output
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["step"] == 2 and state["config"]["upsample"] == "resize"
    assert state["generator_kwargs"]["upsample"] == "resize"
    generator = from_checkpoint(out / "checkpoint.pt").generator
    assert count(generator) == (100 * 8 * 16 + 2 * 8) + (8 * 4 * 9 + 2 * 4) + (4 * 2 * 9 + 2 * 2) + 2 * 3 * 9
    assert torch.equal(generator.state_dict()["net.5.weight"], state["generator"]["net.5.weight"])  # the 3 x 3 conv

    sampled = run_cli("sample", "--checkpoint", out / "checkpoint.pt", "-n", 4, "--out", tmp_path / "s.npy")
    assert sampled.exit_code == 0, sampled.output
    assert np.array_equal(np.load(tmp_path / "s.npy"), generate(generator, 4, seed=0).numpy())
    exported = run_cli("export", "--checkpoint", out / "checkpoint.pt", "--out", tmp_path / "g.onnx")
    assert exported.exit_code == 0 and "validation passed" in exported.output, exported.output
