"""What `pip install .` puts into site-packages: gan_models and its subpackages, export/ among them, nothing else."""
import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _options() -> configparser.SectionProxy:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    return parser["options"]


def _listed(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def test_every_package_installs_under_the_gan_models_namespace():
    packages = _listed(_options()["packages"])
    assert {name.split(".")[0] for name in packages} == {"gan_models"}
    assert "gan_models.export" in packages


def test_the_export_folder_at_the_top_installs_as_gan_models_export():
    package_dir = dict(line.split(" = ") for line in _listed(_options()["package_dir"]))
    assert package_dir == {"gan_models.export": "export"}
    assert (ROOT / package_dir["gan_models.export"] / "__init__.py").is_file()


def test_no_python_package_in_the_tree_is_left_out_of_the_install():
    on_disk = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "gan_models").rglob("__init__.py")}
    on_disk |= {"gan_models.export." + ".".join(init.parent.relative_to(ROOT / "export").parts)
                for init in (ROOT / "export").rglob("*/__init__.py")}
    assert on_disk | {"gan_models.export"} == set(_listed(_options()["packages"]))
