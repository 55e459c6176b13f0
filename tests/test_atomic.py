"""atomic_write: the file is its old content or all of its new content; nothing else is left behind."""
import os
import stat

import pytest

from gan_models.atomic import TEMP_SUFFIX, atomic_write, check_writable, temp_prefix


@pytest.fixture
def umask_027():
    previous = os.umask(0o027)
    yield
    os.umask(previous)


@pytest.mark.parametrize("durable", [False, True])
def test_a_finished_block_replaces_the_file_with_the_permissions_of_a_new_file(tmp_path, umask_027, durable):
    path = tmp_path / "new" / "folder" / "file.txt"  # missing folders are created
    with atomic_write(path, durable=durable) as tmp:
        assert tmp.parent == path.parent and tmp.name.startswith(temp_prefix(path)) and tmp.name.endswith(TEMP_SUFFIX)
        assert not path.exists()  # nothing visible at `path` until the block ends
        tmp.write_text("new")
    assert path.read_text() == "new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # 0o666 under umask 027, not mkstemp's 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["file.txt"]


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_failed_block_keeps_the_old_file_and_removes_the_temporary(tmp_path, error):
    path = tmp_path / "file.txt"
    path.write_text("old")
    with pytest.raises(type(error)):
        with atomic_write(path) as tmp:
            tmp.write_text("half of the ne")
            raise error
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


@pytest.mark.parametrize("name", ["", "sub/.."])
def test_a_path_naming_a_folder_is_refused_before_anything_is_written(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(IsADirectoryError, match="is a folder, not a file name"):
        with atomic_write(name):
            pytest.fail("the block must not run")
    assert list(tmp_path.iterdir()) == []


def test_write_errors_name_the_users_path_not_the_temporary_file(tmp_path):
    regular = tmp_path / "file"
    regular.write_text("x")
    for target in (regular / "out.png", regular / "sub" / "out.png"):
        for attempt in (check_writable, lambda path: atomic_write(path).__enter__()):
            with pytest.raises(NotADirectoryError) as caught:
                attempt(target)
            assert str(caught.value) == f"[Errno 20] cannot write {target}: {regular} is a file, not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc, where no file can be created")
def test_an_unwritable_folder_is_found_before_writing_and_named(tmp_path):
    with pytest.raises(OSError, match=r"^\[Errno \d+\] cannot write /proc/x.onnx: ") as caught:
        check_writable("/proc/x.onnx")
    assert ".tmp" not in str(caught.value)
    with pytest.raises(OSError, match=r"cannot write /proc/x.onnx: "):
        with atomic_write("/proc/x.onnx"):
            pytest.fail("the block must not run")
    assert check_writable(tmp_path / "new" / "x.onnx") == tmp_path / "new" / "x.onnx"
    assert list(tmp_path.iterdir()) == []  # the check creates nothing that stays, folders included
