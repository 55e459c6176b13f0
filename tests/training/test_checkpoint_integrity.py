"""gan_models/training/checkpoint.py, the faults of issue 22: a write that fails part-way in the kernel, a file
that lacks entries, a flipped byte, a file that carries code; and the version-2 format, which stores the conditional
flag once."""
import io
import os
import resource
import signal
import zipfile
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from gan_models.cli import main
from gan_models.training import rundir
from gan_models.training.checkpoint import VERSION, CheckpointError, load_checkpoint, save_checkpoint
from gan_models.training.trainer import train
from gan_models.training.upgrade import upgrade_checkpoint
from tests.helpers import one_error_line, partial_writes, tiny_config, two_colour_class_folders


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _save_in_a_child_limited_to(limit: int, state: dict, path: Path) -> str:
    """Save `state` to `path` in a forked child whose files may not grow past `limit` bytes; its error text.

    The kernel then fails the write part-way (EFBIG), as a full disk does (ENOSPC): torch.save sees a short write
    and, left alone, replaces the OSError with its own "[enforce fail at inline_container.cc...]".
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        message = "saved"
        try:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, instead of a killed process
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
            save_checkpoint(state, path)
        except BaseException as err:  # everything goes back to the parent to assert on
            message = f"{type(err).__name__}: {err}"
        finally:
            os.write(write, message.encode())
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        message = pipe.read()
    os.waitpid(pid, 0)
    return message


def test_a_write_the_kernel_cuts_short_is_one_line_naming_the_checkpoint_and_keeps_the_previous(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint({"model": "fcgan", "weights": torch.zeros(1000)}, path)
    before = path.read_bytes()
    message = _save_in_a_child_limited_to(len(before), {"model": "fcgan", "weights": torch.ones(100_000)}, path)
    assert message == (f"OSError: [Errno 27] cannot write checkpoint {path}: File too large; "
                       "the previous checkpoint is untouched")
    assert "inline_container" not in message
    assert path.read_bytes() == before and not partial_writes(tmp_path)


def test_a_checkpoint_with_only_its_tags_is_one_line_naming_the_file_and_the_missing_entry(tmp_path, onnx_nz8):
    tag_only = tmp_path / "tag_only.pt"
    torch.save({"format": "gan-models-checkpoint", "version": 1}, tag_only)
    expected = f"Error: {tag_only} is not a complete gan-models checkpoint: it has no 'model' entry"
    for command in (["sample", "--checkpoint", tag_only, "--out", tmp_path / "s.png"],
                    ["export", "--checkpoint", tag_only, "--out", tmp_path / "g.onnx"],
                    ["evaluate", "--checkpoint", tag_only],
                    ["validate", onnx_nz8, "--checkpoint", tag_only]):
        assert one_error_line(run(*command)) == expected, command

    out = tmp_path / "run"
    rundir.write_config(out, tiny_config())
    tag_only.rename(out / "checkpoint.pt")
    line = one_error_line(run("train", "--out", out, "--resume"))
    assert line == f"Error: {out / 'checkpoint.pt'} is not a complete gan-models checkpoint: it has no 'model' entry"


def test_resuming_needs_every_training_entry_and_the_ema_generator_of_an_ema_run(tmp_path, tiny_images):
    result = train(tiny_config(epochs=1, ema_decay=0.5), tmp_path / "run", images=tiny_images)
    state = load_checkpoint(result.checkpoint)
    save_checkpoint({**state, "ema_generator": None}, result.checkpoint)
    load_checkpoint(result.checkpoint)  # enough to sample: the raw generator is there
    with pytest.raises(CheckpointError) as refused:
        train(tiny_config(epochs=2, ema_decay=0.5), tmp_path / "run", resume=True, images=tiny_images)
    assert str(refused.value) == (f"{result.checkpoint} is not a complete gan-models checkpoint: its 'ema_generator' "
                                  "entry is a NoneType, not a dict (the run keeps an EMA generator, ema_decay=0.5)")
    del state["optimizer_d"]
    save_checkpoint(state, result.checkpoint)
    with pytest.raises(CheckpointError, match=r"checkpoint.pt is not a complete .*: it has no 'optimizer_d' entry$"):
        load_checkpoint(result.checkpoint, training=True)


def _flip_a_byte_of(tensor: torch.Tensor, path: Path) -> None:
    """Flip the bits of one byte in the middle of `tensor`'s data inside the checkpoint file `path`."""
    data = bytearray(path.read_bytes())
    offset = data.find(tensor.numpy().tobytes())
    assert offset > 0 and data.find(tensor.numpy().tobytes(), offset + 1) == -1
    data[offset + tensor.numel() * tensor.element_size() // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_one_flipped_byte_in_the_generator_weights_is_refused_by_sample_and_resume(tmp_path, tiny_images):
    result = train(tiny_config(epochs=1), tmp_path / "run", images=tiny_images)
    weight = load_checkpoint(result.checkpoint)["generator"]["net.0.weight"]
    _flip_a_byte_of(weight, result.checkpoint)
    damaged = torch.load(result.checkpoint, weights_only=True)["generator"]["net.0.weight"]
    assert (damaged != weight).sum() == 1  # torch.load alone takes the damaged weights

    expected = (f"Error: cannot read checkpoint {result.checkpoint}: corrupt (its member ")
    line = one_error_line(run("sample", "--checkpoint", result.checkpoint, "--out", tmp_path / "s.png"))
    assert line.startswith(expected) and line.endswith(
        "does not match the checksum stored when it was written); it was damaged since, so use another copy")
    assert one_error_line(run("train", "--out", result.out, "--epochs", 2, "--resume")).startswith(expected)
    assert not (tmp_path / "s.png").exists()


def test_resume_names_a_damaged_checkpoint_even_where_the_runs_data_is_gone_too(tmp_path):
    out, gone = tmp_path / "run", tmp_path / "my-images"
    rundir.write_config(out, tiny_config(dataset="folder", data_root=str(gone)))
    (out / "checkpoint.pt").write_bytes(b"not a zip file")
    line = one_error_line(run("train", "--out", out, "--resume"))
    assert line.startswith(f"Error: cannot read checkpoint {out / 'checkpoint.pt'}: ")
    assert str(gone) not in line


def test_a_code_carrying_file_is_refused_without_the_advice_to_load_it_unsafely(tmp_path, code_carrying_files):
    marker, files = code_carrying_files
    for path in files:
        line = one_error_line(run("sample", "--checkpoint", path, "--out", tmp_path / "s.png"))
        assert line.startswith(f"Error: cannot read checkpoint {path}: truncated, corrupt or not a safe torch file (")
        assert "weights_only" not in line and "will likely succeed" not in line
    assert "unsupported GLOBAL posix.system" in line  # what the zipped one carries
    assert not marker.exists()


def test_a_conditional_checkpoint_stores_its_flag_once_and_loads_it_as_a_generator_keyword(tmp_path):
    data = two_colour_class_folders(tmp_path / "data")
    config = tiny_config(dataset="folder", data_root=str(data), conditional=True, batch_size=8, epochs=1)
    result = train(config, tmp_path / "run")
    on_disk = torch.load(result.checkpoint, weights_only=True)
    assert on_disk["version"] == VERSION == 2 and on_disk["config"]["conditional"] is True
    assert "conditional" not in on_disk["generator_kwargs"] and "discriminator_kwargs" not in on_disk
    assert on_disk["generator_kwargs"]["classes"] == ["blue", "red"]
    loaded = load_checkpoint(result.checkpoint)
    assert loaded["generator_kwargs"] == {**on_disk["generator_kwargs"], "conditional": True}


def test_a_version_1_checkpoint_whose_two_flags_disagree_is_refused(tmp_path):
    state = {"model": "fcgan", "generator": {}, "generator_kwargs": {"conditional": True, "classes": ["a", "b"]},
             "config": {"conditional": False, "precision": "bf16"}, "discriminator_kwargs": {"conditional": True}}
    buffer = io.BytesIO()
    torch.save({"format": "gan-models-checkpoint", "version": 1, **state}, buffer)
    path = tmp_path / "v1.pt"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(CheckpointError, match=r"v1.pt is not a consistent gan-models checkpoint: its generator_kwargs "
                                              r"say conditional=True but its config says False$"):
        load_checkpoint(path)
    agreeing = upgrade_checkpoint({**state, "config": {"conditional": True, "precision": "bf16"}}, version=1)
    assert agreeing["generator_kwargs"] == {"classes": ["a", "b"]} and "discriminator_kwargs" not in agreeing
    assert agreeing["config"] == {"batch_size": 128, "diffaugment": "", "conditional": True,
                                  "compute_dtype": "bfloat16"}


def test_every_checkpoint_written_carries_crcs_that_zipfile_checks(tmp_path):
    path = save_checkpoint({"model": "fcgan", "weights": torch.arange(10.0)}, tmp_path / "c.pt")
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None and all(info.CRC != 0 for info in archive.infolist() if info.file_size)
