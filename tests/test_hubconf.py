"""hubconf.py through torch.hub's GitHub code path: the archive GitHub would serve, downloaded and imported.

`git archive` of HEAD as a zip is what https://github.com/<owner>/gan-models/zipball/<ref> serves
(export-ignore attributes included). torch.hub's own download is pointed at that file, so
torch.hub.list and torch.hub.load run exactly as for a user online: the zip is extracted into the
hub cache, hubconf is imported from it, and pretrained weights and records are read from it. It
runs in a fresh interpreter so that gan_models is imported from the extracted archive, not from
this checkout.
"""
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]

# Runs in a fresh interpreter: argv = hub dir, archive, output file. Prints nothing on success.
LOAD_FROM_GITHUB = """
import json, shutil, sys
from pathlib import Path
import torch
hub_dir, archive, out = sys.argv[1:4]
downloads = []
def download_url_to_file(url, dst, *args, **kwargs):
    downloads.append(url)
    shutil.copyfile(archive, dst)
torch.hub.download_url_to_file = download_url_to_file
torch.hub.set_dir(hub_dir)
repo = "owner/gan-models:main"
entries = torch.hub.list(repo, trust_repo=True, skip_validation=True, verbose=False)
import gan_models, gan_models.registry as registry
samples = {}
for name in entries:
    module = torch.hub.load(repo, name, trust_repo=True, skip_validation=True, verbose=False)
    samples[name] = sum(p.numel() for p in module.parameters())
pretrained = {}
for record in registry.WEIGHTS:
    generator = torch.hub.load(repo, record.model, pretrained=True, dataset=record.dataset,
                               conditional=record.conditional, trust_repo=True, skip_validation=True, verbose=False)
    images = generator.sample(4, seed=0)
    torch.save(images, Path(out).with_name(f"{record.stem}.pt"))
    pretrained[record.stem] = str(Path(registry.WEIGHTS_DIR, record.file))
Path(out).write_text(json.dumps({"downloads": downloads, "entries": entries, "params": samples,
                                 "pretrained": pretrained, "gan_models": gan_models.__file__}))
"""


@pytest.fixture(scope="module")
def github_download(tmp_path_factory) -> tuple[Path, dict]:
    """Load every entry point from the archive of HEAD through torch.hub's GitHub path; returns (hub dir, report).

    The report also names the archive (`archive`) and the folder of the pretrained samples (`samples`).
    """
    tmp = tmp_path_factory.mktemp("github")
    archive = tmp / "main.zip"
    subprocess.run(["git", "-C", str(REPO), "archive", "--format=zip", "--prefix=gan-models-main/",
                    "-o", str(archive), "HEAD"], check=True)
    out = tmp / "report.json"
    subprocess.run([sys.executable, "-c", LOAD_FROM_GITHUB, str(tmp / "hub"), str(archive), str(out)],
                   check=True, cwd=tmp, timeout=600)
    return tmp / "hub", {**json.loads(out.read_text()), "archive": str(archive), "samples": str(tmp)}


def test_the_archive_is_downloaded_once_and_imported_from_the_hub_cache(github_download):
    hub_dir, report = github_download
    assert report["downloads"] == ["https://github.com/owner/gan-models/zipball/main"]
    extracted = hub_dir / "owner_gan-models_main"
    assert Path(report["gan_models"]).is_relative_to(extracted)  # not this checkout's package
    assert (extracted / "hubconf.py").read_bytes() == (REPO / "hubconf.py").read_bytes()


def test_every_entry_point_loads_from_the_archive(github_download):
    import gan_models
    import hubconf

    _, report = github_download
    local = sorted(name for name in dir(hubconf) if callable(getattr(hubconf, name)) and not name.startswith("_"))
    assert sorted(report["entries"]) == local
    for name in local:
        module = getattr(gan_models, name)()
        assert report["params"][name] == sum(p.numel() for p in module.parameters()), name


def test_every_pretrained_generator_loads_from_the_archive_with_the_local_weights(github_download):
    from gan_models import registry

    hub_dir, report = github_download
    assert sorted(report["pretrained"]) == sorted(r.stem for r in registry.WEIGHTS) and registry.WEIGHTS
    for record in registry.WEIGHTS:
        weight_file = Path(report["pretrained"][record.stem])
        assert weight_file.is_relative_to(hub_dir) and weight_file.read_bytes() == (
            registry.WEIGHTS_DIR / record.file).read_bytes()
        from_archive = torch.load(Path(report["samples"]) / f"{record.stem}.pt", weights_only=True)
        local = torch.hub.load(str(REPO), record.model, source="local", pretrained=True, dataset=record.dataset,
                               conditional=record.conditional)
        assert torch.equal(from_archive, local.sample(4, seed=0)), record.stem


def test_the_archive_holds_what_users_need_and_nothing_local(github_download):
    _, report = github_download
    with zipfile.ZipFile(report["archive"]) as archive:
        names = {Path(n).relative_to("gan-models-main").as_posix() for n in archive.namelist() if n.count("/") > 0}
    assert {"hubconf.py", "gan_models/__init__.py", "gan_models/weights/generators.json"} <= names
    assert not any(n.startswith((".venv", "runs/")) or "__pycache__" in n for n in names)
