"""torch.hub entry points: listing, help, loading from a local dir and from a (cached) GitHub checkout."""
import hashlib
import shutil
import subprocess
import sys

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gan_models
from gan_models import hub, registry
from gan_models.emoji import EMOJI_CREDITS
from gan_models.quantize import dequantize_state_dict, quantize_state_dict
from gan_models.registry import (
    NoPretrainedWeightsError,
    WeightRecord,
    WeightsIntegrityError,
)
from tests.helpers import DOCUMENTED, ODD_VALUES, REPO, SMALL


def _ship(tmp_path, monkeypatch, **kwargs) -> tuple[WeightRecord, torch.nn.Module]:
    """Save a generator's state dict as a shipped weight in a temporary weights folder."""
    torch.manual_seed(1)
    trained = registry.build_generator("fcgan", nz=4, ngf=8)
    path = tmp_path / "fcgan-mnist.pt"
    torch.save(trained.state_dict(), path)
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    record = WeightRecord("fcgan", "mnist", path.name, sha256, {"nz": 4, "ngf": 8})
    monkeypatch.setattr(registry, "WEIGHTS_DIR", tmp_path)
    monkeypatch.setattr(registry, "WEIGHTS", (record,))
    return record, trained


GENERATORS = ["dcgan", "dcgan64", "fcgan", "lsgan"]




ENTRY_POINTS = sorted(GENERATORS + [f"{g}_discriminator" for g in GENERATORS])


@pytest.fixture
def github_checkout(tmp_path):
    """The repository placed where torch.hub caches a GitHub download, so the GitHub code path runs offline."""
    hub_dir = tmp_path / "hub"
    shutil.copytree(REPO, hub_dir / "owner_gan-models_main",
                    ignore=shutil.ignore_patterns(".git", ".venv", "runs", "__pycache__", "*.egg-info",
                                                  ".pytest_cache"))
    previous = torch.hub.get_dir()
    torch.hub.set_dir(str(hub_dir))
    yield "owner/gan-models:main"
    torch.hub.set_dir(previous)
    sys.modules.pop("hubconf", None)


def test_hub_list_and_help_from_a_github_checkout(github_checkout):
    entries = torch.hub.list(github_checkout, trust_repo=True, skip_validation=True, verbose=False)
    assert sorted(entries) == ENTRY_POINTS
    doc = torch.hub.help(github_checkout, "dcgan", trust_repo=True, skip_validation=True)
    assert "InfoGAN" in doc and "(N, nz) -> (N, 1, 28, 28)" in doc


def test_hub_load_from_a_github_checkout(github_checkout):
    generator = torch.hub.load(github_checkout, "fcgan", nz=4, trust_repo=True, skip_validation=True, verbose=False)
    assert sum(p.numel() for p in generator.parameters()) == 1_858_320


@pytest.mark.parametrize("name", GENERATORS)
def test_hub_load_local_generators(name):
    generator = torch.hub.load(str(REPO), name, source="local", nz=5)
    assert isinstance(generator, torch.nn.Module) and generator.nz == 5
    assert generator.training  # fresh networks are trainable
    assert generator(torch.randn(2, 5)).shape[0] == 2


@pytest.mark.parametrize("name", GENERATORS)
def test_hub_load_local_discriminators(name):
    discriminator = torch.hub.load(str(REPO), f"{name}_discriminator", source="local")
    generator = torch.hub.load(str(REPO), name, source="local")
    assert discriminator(generator.sample(2, seed=0)).shape == (2, 1)


def test_importing_hubconf_pulls_no_export_or_cli_dependencies():
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import hubconf; "
            "print(sorted(m for m in ('onnx', 'onnxruntime', 'click', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(REPO)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("entry", ["dcgan", "dcgan64", "fcgan", "lsgan"])
def test_pretrained_without_shipped_weights_is_an_error(entry, monkeypatch):
    monkeypatch.setattr(registry, "WEIGHTS", ())
    with pytest.raises(NoPretrainedWeightsError, match=f"no pretrained weights for '{entry}'"):
        getattr(gan_models, entry)(pretrained=True)


def test_pretrained_discriminators_do_not_exist():
    with pytest.raises(NoPretrainedWeightsError, match="only generators ship pretrained weights"):
        gan_models.dcgan_discriminator(pretrained=True)


def test_unknown_model_and_keyword():
    expected = r"unknown model 'wgan'; choose one of \['dcgan', 'dcgan64', 'fcgan', 'lsgan'\]"
    with pytest.raises(ValueError, match=expected):
        registry.build_generator("wgan")
    with pytest.raises(TypeError, match=r"unknown keyword\(s\) \['widht'\]"):
        gan_models.fcgan(widht=3)


def test_pretrained_loading_checks_the_hash_and_returns_eval_mode(tmp_path, monkeypatch):
    _, trained = _ship(tmp_path, monkeypatch)
    loaded = gan_models.fcgan(pretrained=True)
    assert not loaded.training
    z = torch.randn(3, 4)
    assert torch.equal(loaded(z), trained.eval()(z))
    with pytest.raises(ValueError, match=r"was built with nz=4 \(asked 5\); its weights need those values"):
        gan_models.fcgan(pretrained=True, nz=5)
    with pytest.raises(ValueError, match=r"was built with dropout=0.0 \(asked 0.5\)"):
        gan_models.fcgan(pretrained=True, dropout=0.5)
    assert gan_models.fcgan(pretrained=True, nz=4, ngf=8).nz == 4  # restating is fine
    with pytest.raises(NoPretrainedWeightsError, match="shipped: fcgan on mnist"):
        gan_models.fcgan(pretrained=True, dataset="fashion-mnist")


def test_tampered_weight_file_fails_its_hash_check(tmp_path, monkeypatch):
    record, _ = _ship(tmp_path, monkeypatch)
    data = bytearray((tmp_path / record.file).read_bytes())
    data[-100] ^= 1
    (tmp_path / record.file).write_bytes(bytes(data))
    with pytest.raises(WeightsIntegrityError, match=f"expected sha256 {record.sha256}"):
        gan_models.fcgan(pretrained=True)
    (tmp_path / record.file).unlink()
    with pytest.raises(WeightsIntegrityError, match="weight file missing"):
        gan_models.fcgan(pretrained=True)


@settings(max_examples=50, deadline=None)
@given(name=st.sampled_from(sorted(SMALL)), key=st.sampled_from(["nz", "ngf", "channels", "image_size", "dropout",
                                                                 "noise", "pretrained", "dataset", "ndf"]),
       value=ODD_VALUES)
def test_hub_generators_reject_odd_keywords_with_documented_errors(name, key, value):
    from gan_models.registry import NoPretrainedWeightsError  # a ValueError

    try:
        generator = getattr(hub, name)(**{**SMALL[name], key: value})
    except (*DOCUMENTED, NoPretrainedWeightsError):
        return
    assert generator.sample(2, seed=0).shape == (2, *generator.image_shape)


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(sorted(SMALL)), key=st.sampled_from(["ndf", "channels", "image_size", "dropout"]),
       value=ODD_VALUES)
def test_hub_discriminators_reject_odd_keywords_with_documented_errors(name, key, value):
    """A keyword is refused with a documented error, or accepted and the discriminator judges images of its shape."""
    try:
        discriminator = getattr(hub, f"{name}_discriminator")(**{key: value})
    except DOCUMENTED:
        return
    size = discriminator.image_size
    logits = discriminator(torch.zeros(2, discriminator.channels, size, size))
    assert logits.shape == (2, 1) and torch.isfinite(logits).all()


def test_hub_loads_shipped_emoji_weights(tmp_path, monkeypatch):
    torch.manual_seed(0)
    generator = registry.build_generator("dcgan64", ngf=4)
    path, sha256 = registry.save_weights(quantize_state_dict(generator.state_dict()), tmp_path, "dcgan64-emoji")
    record = WeightRecord(model="dcgan64", dataset="emoji", file=path.name, sha256=sha256,
                          generator_kwargs={"ngf": 4}, storage="int8", credits=EMOJI_CREDITS)
    monkeypatch.setattr(registry, "WEIGHTS_DIR", tmp_path)
    monkeypatch.setattr(registry, "WEIGHTS", (record,))
    loaded = gan_models.dcgan64(pretrained=True)  # dataset="emoji" by default
    assert not loaded.training and loaded.image_shape == (3, 64, 64)
    expected = dequantize_state_dict(quantize_state_dict(generator.state_dict()))
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in expected.items())
    with pytest.raises(registry.NoPretrainedWeightsError, match="no pretrained weights for 'dcgan64' on 'celeba'"):
        gan_models.dcgan64(pretrained=True, dataset="celeba")


def test_a_dataset_without_pretrained_is_refused():
    # It names shipped weights; a fresh network silently ignoring it would look like the weights loaded.
    with pytest.raises(ValueError, match=r"dataset='celeba' picks shipped weights, so it needs pretrained=True"):
        gan_models.dcgan(dataset="celeba")
    with pytest.raises(ValueError, match=r"dataset='mnist' picks shipped weights"):
        gan_models.fcgan(pretrained=False, dataset="mnist")
    assert gan_models.fcgan(dataset=None, ngf=8).training  # None is "no dataset"


@pytest.mark.parametrize("size, cls, nz", [(28, "Generator28", 96), (32, "Generator", 100), (64, "Generator", 100),
                                           (128, "Generator", 100)])
def test_the_dcgan_builders_take_an_image_size(size, cls, nz):
    generator = gan_models.dcgan(image_size=size, ngf=2)
    discriminator = gan_models.dcgan_discriminator(image_size=size, ndf=2)
    assert type(generator).__name__ == cls and generator.nz == nz  # 32 to 128 have dcgan64's defaults
    assert generator.image_shape == ((1 if size == 28 else 3), size, size)
    assert discriminator.image_size == size
    assert discriminator(generator.sample(2, seed=0)).shape == (2, 1)


def test_dcgan_at_64_is_dcgan64():
    torch.manual_seed(0)
    sized = gan_models.dcgan(image_size=64)
    torch.manual_seed(0)
    named = gan_models.dcgan64()
    assert type(sized) is type(named)
    assert all(torch.equal(a, b) for a, b in zip(sized.state_dict().values(), named.state_dict().values(), strict=True))
    # and its shipped weights are dcgan64's (the real file): the same images, its recorded parameter count
    record = registry.find_weights("dcgan64", "emoji")
    pretrained = gan_models.dcgan(pretrained=True, image_size=64)  # dataset: dcgan64's default, emoji
    assert torch.equal(pretrained.sample(2, seed=0), gan_models.dcgan64(pretrained=True).sample(2, seed=0))
    # resize-convolution G at ngf 32: 100*256*16 (4 x 4 transposed conv) + 256*128*9 + 128*64*9 + 64*32*9
    # + 32*3*9 (3 x 3 convs, no bias) + 2*(256 + 128 + 64 + 32) BatchNorm = 798,496
    assert sum(p.numel() for p in pretrained.parameters()) == record.num_params == 798_496


def test_a_size_a_model_does_not_build_is_refused_naming_the_sizes():
    with pytest.raises(ValueError, match=r"dcgan builds images of size 28, 32, 64, 128 only, not 48$"):
        gan_models.dcgan(image_size=48)
    with pytest.raises(ValueError, match=r"dcgan64 builds images of size 64 only, not 32; dcgan builds them "
                                         r"\(image_size=32\)"):
        gan_models.dcgan64_discriminator(image_size=32)
    with pytest.raises(TypeError, match="image_size must be an int, got '64'"):
        gan_models.dcgan(image_size="64")
    with pytest.raises(ValueError, match=r"pretrained dcgan64 on emoji was built with image_size=64 \(asked 128\)"):
        gan_models.dcgan(pretrained=True, image_size=128)
    assert gan_models.fcgan(image_size=16, ngf=8).image_shape == (1, 16, 16)  # the FC networks take any size


def test_the_builders_docstrings_name_the_sizes_and_their_networks():
    assert ("image_size: height and width of the images: 28, 32, 64, 128 (default 28); 32, 64, 128 build "
            "gan_models.nets.dcgan.Generator, dcgan64's network") in " ".join(gan_models.dcgan.__doc__.split())
    assert "image_size: height and width of the images: 64 only; dcgan builds this network at 32, 64, 128." in \
        " ".join(gan_models.dcgan64_discriminator.__doc__.split())
    assert "at image_size 32, 64, 128, dcgan64's: emoji (default emoji)" in " ".join(gan_models.dcgan.__doc__.split())
