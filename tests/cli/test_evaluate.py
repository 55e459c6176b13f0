"""`gan-models evaluate`: the table, the JSON report, one-line errors."""
import json

import pytest
import torch
from click.testing import CliRunner

from gan_models import registry
from gan_models.cli import main
from gan_models.emoji import EMOJI_CATEGORIES
from gan_models.training.checkpoint import save_checkpoint
from tests.helpers import one_error_line, tiny_fcgan_generator


@pytest.fixture
def make_checkpoint(tmp_path):
    def make(**extra):
        state = {"model": "fcgan", "generator_kwargs": {"nz": 4, "ngf": 16},
                 "generator": tiny_fcgan_generator().state_dict(), **extra}
        return str(save_checkpoint(state, tmp_path / f"tiny-{len(extra)}.pt"))
    return make


def test_evaluate_command_prints_a_table_and_writes_json(make_checkpoint, data_root, tmp_path):
    out = tmp_path / "quality.json"
    result = CliRunner().invoke(main, ["evaluate", "--checkpoint", make_checkpoint(dataset="mnist"),
                                       "--data-root", str(data_root), "--samples", "200", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "Frechet distance to test split" in result.output and "real (train split)" in result.output
    report = json.loads(out.read_text())
    assert report["dataset"] == "mnist" and report["samples"] == 200
    assert set(report["generated"]) == {"frechet_distance", "classes_covered", "kl_from_uniform",
                                        "mean_confidence", "class_histogram"}
    assert sum(report["generated"]["class_histogram"]) == pytest.approx(1.0)


def test_evaluate_command_writes_json_into_a_folder_it_creates(make_checkpoint, data_root, tmp_path):
    # As sample --out and export --out do: a missing folder must not fail the command after the measurement.
    out = tmp_path / "reports" / "run-1" / "quality.json"
    result = CliRunner().invoke(main, ["evaluate", "--checkpoint", make_checkpoint(dataset="mnist"),
                                       "--data-root", str(data_root), "--samples", "50", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["samples"] == 50


def test_an_onnx_file_of_a_folder_run_needs_the_folder(tmp_path):
    # The file's metadata says "folder" but not which: measuring against the data root would compare other images.
    from gan_models.export import export_onnx

    generator = registry.build_generator("dcgan64", ngf=2).eval()
    onnx_path = export_onnx(generator, tmp_path / "g.onnx", exporter="torchscript", dataset="folder")
    result = CliRunner().invoke(main, ["evaluate", "--onnx", str(onnx_path), "--samples", "100"])
    assert one_error_line(result) == (f"Error: {onnx_path} was trained on an image folder, which an ONNX file does "
                                      "not record: give --data-root, the folder it was trained on")


@pytest.mark.parametrize("arguments, message", [
    (["--checkpoint", "missing.pt"], "checkpoint not found"),
    (["--hub", "dcgan64"], "judges 1 x 28 x 28 images; this generator makes 3 x 64 x 64"),
    (["--hub", "fcgan", "--pretrained", "--dataset", "celeba"], "no pretrained weights for 'fcgan' on 'celeba'"),
    (["--hub", "fcgan", "--samples", "1"], "n_samples must be >= 2"),
    ("celeba checkpoint", "no sample-quality classifier for dataset 'celeba'"),
])
def test_evaluate_command_reports_bad_input_in_one_line(arguments, message, make_checkpoint, data_root):
    if arguments == "celeba checkpoint":
        arguments = ["--checkpoint", make_checkpoint(dataset="celeba")]
    result = CliRunner().invoke(main, ["evaluate", *arguments, "--data-root", str(data_root)])
    assert result.exit_code == 1
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_evaluate_command_needs_exactly_one_generator(make_checkpoint):
    result = CliRunner().invoke(main, ["evaluate", "--checkpoint", make_checkpoint(), "--hub", "fcgan"])
    assert result.exit_code == 1 and "give exactly one of --checkpoint CKPT or --hub NAME" in result.output


# Bad input from the robustness matrix (issue 6): each case is one `Error: ...` line naming the problem.
EVALUATE_CASES = [
    (["evaluate", "--hub", "fcgan", "--seed", str(2**64)], "is not in the range 0<=x<="),
    (["evaluate", "--hub", "dcgan64"], "judges 1 x 28 x 28 images; this generator makes 3 x 64 x 64"),
]


@pytest.mark.parametrize("args, message", EVALUATE_CASES, ids=[" ".join(a)[:60] for a, _ in EVALUATE_CASES])
def test_bad_cli_input_is_one_line_naming_the_problem(args, message, paths, data_root):
    values = {**paths, "data": str(data_root)}
    result = CliRunner().invoke(main, [a.format(**values) for a in args])
    assert message in one_error_line(result)


def test_evaluate_command_on_an_emoji_checkpoint(tmp_path, data_root):
    torch.manual_seed(0)
    generator = registry.build_generator("dcgan64", ngf=4)
    checkpoint = save_checkpoint({"model": "dcgan64", "dataset": "emoji", "generator_kwargs": {"ngf": 4},
                                  "generator": generator.state_dict()}, tmp_path / "tiny.pt")
    result = CliRunner().invoke(main, ["evaluate", "--checkpoint", str(checkpoint), "--data-root", str(data_root),
                                       "--samples", "100", "--json", str(tmp_path / "q.json")])
    assert result.exit_code == 0, result.output
    assert "on emoji: 100 images per set" in result.output
    assert "share predicted as people-body" in result.output
    assert "copy check (100 vs 6,784 train images)" in result.output
    report = json.loads((tmp_path / "q.json").read_text())
    assert report["class_names"] == list(EMOJI_CATEGORIES) and report["copy_check"]["train_images"] == 6784
    # an untrained generator's flat grey images are far from every emoji, farther than held-out emoji are
    assert report["copy_check"]["generated_median"] > report["copy_check"]["held_out_median"]
    # the classifier puts under 2% of real images in component (0.1% of the data) and activities (2.3%)
    assert report["real"]["classes_covered"] == 8


def test_help_says_where_the_data_is_looked_for():
    output = " ".join(CliRunner().invoke(main, ["evaluate", "--help"]).output.split())
    assert "[default: $GAN_MODELS_DATA, else ./data]" in output


def test_evaluate_prints_and_writes_the_class_numbers(conditional_checkpoint, data_root, tmp_path):
    result = CliRunner().invoke(main, ["evaluate", "--checkpoint", str(conditional_checkpoint), "--data-root",
                                       str(data_root), "--samples", "200", "--json", str(tmp_path / "q.json")])
    assert result.exit_code == 0, result.output
    assert "class accuracy (mean over classes)" in result.output
    assert "7 Sneaker: accuracy / FD" in result.output
    import json

    report = json.loads((tmp_path / "q.json").read_text())
    assert len(report["generated_classes"]["per_class_accuracy"]) == 10
    assert report["real_classes"]["class_accuracy"] > 0.85  # the Fashion-MNIST classifier on labelled train images



# The full report (issue 19): each distribution number beside its real-vs-real value, in the printed table and JSON.

def test_the_json_report_equals_the_python_report_and_the_table_prints_each_number_beside_the_floor(data_root,
                                                                                                     tmp_path):
    from gan_models.quality.metrics import evaluate_generator
    from gan_models.sources import from_hub

    out = tmp_path / "r.json"
    result = CliRunner().invoke(main, ["evaluate", "--hub", "fcgan", "--data-root", str(data_root), "--samples", "300",
                                       "--resamples", "20", "--json", str(out)])
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text())
    expected = evaluate_generator(from_hub("fcgan").generator, "mnist", data_root, n_samples=300, resamples=20)
    assert written == json.loads(json.dumps(expected.to_dict()))  # every key, every value
    assert set(written["generated_distribution"]) == {"frechet_distance", "frechet_interval", "kid", "kid_std",
                                                      "precision", "recall", "density", "coverage"}
    assert written["features"] == "classifier" and written["feature_dims"] == 128 and written["warnings"] == []
    assert "in the mnist classifier's 128 features" in result.output
    mine, floor = expected.generated_distribution, expected.real_distribution
    lines = {line[:40].strip(): line[40:].split() for line in result.output.splitlines()}
    assert lines["Frechet distance to test split [95%]"] == [
        f"{mine.frechet_distance:.3f}", f"[{mine.frechet_interval[0]:.2f},", f"{mine.frechet_interval[1]:.2f}]",
        f"{floor.frechet_distance:.3f}", f"[{floor.frechet_interval[0]:.2f},", f"{floor.frechet_interval[1]:.2f}]"]
    for name in ("precision", "recall", "density", "coverage"):
        assert lines[f"{name} (k = 3)"] == [f"{getattr(mine, name):.4f}", f"{getattr(floor, name):.4f}"], name
    assert lines["KID (mean +- std over subsets)"][0] == f"{mine.kid:.4g}"
    assert lines["KID (mean +- std over subsets)"][3] == f"{floor.kid:.4g}"


def test_too_few_samples_print_one_warning_line(data_root):
    result = CliRunner().invoke(main, ["evaluate", "--hub", "fcgan", "--data-root", str(data_root), "--samples", "100",
                                       "--resamples", "10"])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "100 images per set is too few" in warnings[0] and "n >= 205" in warnings[0]


def test_an_onnx_file_gets_the_same_report_as_its_checkpoint(onnx_nz8, tiny_checkpoint, data_root, tmp_path):
    reports = {}
    for name, source in (("onnx", ["--onnx", str(onnx_nz8), "--dataset", "mnist"]),
                         ("torch", ["--checkpoint", str(tiny_checkpoint)])):
        result = CliRunner().invoke(main, ["evaluate", *source, "--data-root", str(data_root), "--samples", "300",
                                           "--resamples", "20", "--json", str(tmp_path / f"{name}.json")])
        assert result.exit_code == 0, result.output
        reports[name] = json.loads((tmp_path / f"{name}.json").read_text())
    onnx, torch_report = reports["onnx"], reports["torch"]
    assert onnx.keys() == torch_report.keys() and onnx["real_distribution"] == torch_report["real_distribution"]
    for key in ("frechet_distance", "kid", "precision", "recall", "density", "coverage"):
        assert onnx["generated_distribution"][key] == pytest.approx(torch_report["generated_distribution"][key],
                                                                    rel=1e-3, abs=1e-6), key


@pytest.mark.parametrize("arguments, message", [
    (["--hub", "fcgan", "--inception-weights", "w.pth"], "--inception-weights goes with --features inception"),
    (["--hub", "fcgan", "--features", "inception", "--inception-weights", "nowhere.pth"],
     "nowhere.pth: Inception weights not found"),
    (["--hub", "fcgan", "--onnx", "g.onnx"], "give one of --onnx FILE, --checkpoint CKPT or --hub NAME"),
    (["--hub", "fcgan", "--samples", "3"], "n_samples must be >= 2 for a covariance and >= 4"),
])
def test_bad_feature_and_source_options_are_one_line(arguments, message, data_root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["evaluate", *arguments, "--data-root", str(data_root)])
    assert message in one_error_line(result)
