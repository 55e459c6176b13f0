"""Shared fixtures: the data root, tiny synthetic datasets, one tiny trained run (its checkpoint and ONNX export),
files that carry code, and the paths the CLI error tests refer to."""
import os
import pickle
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from gan_models.data import DATA_ROOT_ENV
from gan_models.training.trainer import train
from tests.helpers import fcgan16_config

# Fixtures whose users are marked centrally (pytest_collection_modifyitems), so the fast tier
# `pytest -m "not slow and not data"` needs no decorator in the test files.
DATA_FIXTURES = ("data_root",)  # any test that uses these (directly or through another fixture) reads $GAN_MODELS_DATA
SLOW_FIXTURES = ("worker", "_fork_worker", "github_download")  # forked trainings; the hub archive process
# Nearly every test of these files exports through torch.export, seconds each on a 2-core CPU; the fast tier keeps
# ONNX covered through tests/export/test_validate.py and tests/test_sources.py (one tiny export, shared).
SLOW_FILES = ("tests/export/test_onnx.py", "tests/export/test_interface.py", "tests/export/test_int8.py",
              "tests/cli/test_exporting.py", "tests/training/test_small_data.py")
# Tests measured at 3 s or more (their cases together) on an idle 2-core CPU: real processes (subprocess imports,
# the hub's archive path, SIGTERM), the whole demo, repeated trainings and long validation loops.
SLOW_TESTS = ("test_demo_without_data_says_how_to_get_it",
              "test_a_discriminator_that_wins_outright_is_warned_of_within_100_steps",
              "test_the_archive_is_downloaded_once_and_imported_from_the_hub_cache",
              "test_importing_hubconf_pulls_no_export_or_cli_dependencies",
              "test_sigterm_while_writing_an_array_removes_the_unfinished_file",
              "test_interrupted_then_resumed_equals_uninterrupted",
              "test_an_interrupted_ada_r1_run_resumes_to_the_uninterrupted_one_with_its_log",
              "test_a_torn_last_log_line_is_dropped_with_a_warning_and_the_resumed_log_matches",
              "test_the_cuda_comparison_turns_tf32_off_and_has_its_own_tolerance",
              "test_many_validations_do_not_leak_memory", "test_z_and_images_must_be_float32",
              # validations that each export a generator again (1.6-4.7 s each in a whole fast-tier run)
              "test_perturbed_model_fails_with_the_largest_difference",
              "test_cuda_is_reported_skipped_without_a_provider",
              "test_wrong_latent_size_and_wrong_names_are_typed_errors",
              "test_a_graph_that_runs_only_at_its_traced_batch_is_a_shape_error",
              "test_an_unknown_precision_in_the_metadata_is_a_file_error",
              "test_export_and_validate_removes_a_failing_file", "test_a_silent_fallback_from_cuda_to_cpu_is_an_error",
              "test_export_and_validate_removes_the_file_when_validation_cannot_finish",
              "test_images_per_s_times_the_step_not_the_logging",
              # folder evaluations at n = 24 with 10 bootstrap resamples (each 10-20 s under load)
              "test_a_folder_evaluation_reports_every_figure_with_its_floor_and_a_memoriser_scores_copy_distance_0",
              "test_general_fd_rises_with_blur_and_noise",
              "test_a_folder_classifier_trains_then_gives_evaluate_its_class_numbers",
              # a training and an ONNX export at each image size (4-13 s each under load)
              "test_each_size_trains_a_few_steps_then_exports_to_validated_onnx",
              "test_a_resize_run_trained_from_the_command_line_samples_and_exports_from_its_checkpoint",
              # trainings with --eval-every (each evaluation classifies the test subset), and an export
              "test_best_pt_holds_the_generator_of_the_best_row_of_the_log", "test_sample_and_evaluate_read_best_pt",
              "test_export_reads_best_pt", "test_interrupted_then_resumed_keeps_the_uninterrupted_best_pt",
              "test_resume_refuses_another_eval_every", "test_the_curve_is_what_train_eval_every_logged",
              # projections: 150 Adam steps on 9 latents; ten classes searched (11-21 s on the loaded 2-core CPU)
              "test_an_image_the_generator_made_is_recovered",
              "test_a_conditional_generator_with_a_class_keeps_it_and_without_finds_the_right_one",
              "test_a_conditional_generator_projects_with_and_without_a_class")


def pytest_collection_modifyitems(config, items):
    """Mark tests `data` or `slow` by the fixtures they use (transitively), their file or their name, as registered
    in setup.cfg, so that `pytest -m "not slow and not data"` is a fast tier (README states its time)."""
    root = Path(str(config.rootpath))
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names.intersection(DATA_FIXTURES):
            item.add_marker(pytest.mark.data)
        path = Path(str(item.path)).relative_to(root).as_posix() if Path(str(item.path)).is_relative_to(root) else ""
        if names.intersection(SLOW_FIXTURES) or path in SLOW_FILES or getattr(item, "originalname", "") in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)


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


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A real checkpoint of a tiny FC-GAN (nz=8, ngf=16)."""
    images = torch.randint(0, 256, (32, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    return train(fcgan16_config(), tmp_path_factory.mktemp("tiny") / "run", images=images).checkpoint


@pytest.fixture(scope="session")
def onnx_nz8(tmp_path_factory, tiny_checkpoint) -> Path:
    """An ONNX export of the tiny checkpoint's generator (nz=8)."""
    from gan_models.export import export_onnx
    from gan_models.sources import from_checkpoint

    return export_onnx(from_checkpoint(tiny_checkpoint).generator, tmp_path_factory.mktemp("onnx") / "g.onnx")


class _Payload:
    """Unpickling this runs a shell command: what a malicious checkpoint or weight file would carry."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.fixture
def code_carrying_files(tmp_path) -> tuple[Path, list[Path]]:
    """A marker path and two files that create it when unpickled: a raw pickle and a torch.save zip."""
    marker = tmp_path / "MARKER"
    raw = tmp_path / "raw-pickle.pt"
    raw.write_bytes(pickle.dumps({"format": "gan-models-checkpoint", "version": 1, "x": _Payload(marker)}, protocol=2))
    zipped = tmp_path / "torch-save.pt"
    torch.save({"format": "gan-models-checkpoint", "version": 1, "model": "fcgan", "x": _Payload(marker)}, zipped)
    # The files are really dangerous: a plain load runs the payload (then the marker is removed again).
    torch.load(zipped, weights_only=False)
    assert marker.exists()
    marker.unlink()
    return marker, [raw, zipped]


@pytest.fixture(scope="session")
def paths(tmp_path_factory, tiny_checkpoint, onnx_nz8) -> dict[str, str]:
    root = tmp_path_factory.mktemp("cli")
    (root / "folder").mkdir()
    (root / "empty").mkdir()
    (root / "text.pt").write_text("not a checkpoint")
    (root / "random.onnx").write_bytes(b"\x00\x01 not onnx")
    return {"dir": str(root / "folder"), "empty": str(root / "empty"), "text": str(root / "text.pt"),
            "missing": str(root / "missing.pt"), "ckpt": str(tiny_checkpoint), "onnx8": str(onnx_nz8),
            "random_onnx": str(root / "random.onnx"), "out": str(root / "out")}


def _hypothesis_profiles() -> None:
    """CI draws the same examples every run (a red build must be reproducible); local runs explore new ones."""
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, print_blob=True)
    if os.environ.get("CI"):
        settings.load_profile("ci")


_hypothesis_profiles()


@pytest.fixture(scope="session")
def conditional_checkpoint(tmp_path_factory, data_root):
    """A one-epoch conditional DCGAN-28 run on 64 Fashion-MNIST images, trained through the CLI."""
    from gan_models.cli import main

    out = tmp_path_factory.mktemp("run")
    result = CliRunner().invoke(main, ["train", "--model", "dcgan", "--ngf", "4", "--ndf", "4", "--conditional",
                                       "--dataset", "fashion-mnist", "--data-root", str(data_root), "--max-images",
                                       "64", "--batch-size", "32", "--epochs", "1", "--out", str(out),
                                       "--no-progress"])
    assert result.exit_code == 0, result.output
    return out / "checkpoint.pt"

