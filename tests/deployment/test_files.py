"""Tests of write_atomic: a write either replaces the file whole or changes nothing."""

import errno
import os
import stat
from pathlib import Path

import pytest

from sklipo.deployment._files import write_atomic

OLD = b"the previous model"
NEW = b"the new model, longer than the old one"


class DiskFull(OSError):
    """What a write that runs out of space raises, half-way through."""


def _fill_half_then_fail(temp):
    Path(temp).write_bytes(NEW[: len(NEW) // 2])
    raise DiskFull(errno.ENOSPC, os.strerror(errno.ENOSPC), temp)


@pytest.fixture
def target(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(OLD)
    return path


def test_write_atomic_replaces_the_target(target):
    """Check that the new content replaces the old and nothing else is left."""
    write_atomic(target, lambda temp: Path(temp).write_bytes(NEW))
    assert target.read_bytes() == NEW
    assert sorted(target.parent.iterdir()) == [target]


def test_write_atomic_creates_a_new_file(tmp_path):
    path = tmp_path / "card.json"
    write_atomic(str(path), lambda temp: Path(temp).write_bytes(NEW))  # a str path works too
    assert path.read_bytes() == NEW
    assert sorted(tmp_path.iterdir()) == [path]


def test_write_atomic_writer_gets_a_sibling_temporary_file(target):
    """Check that the writer never touches the target, and writes in its folder."""
    seen = []

    def write(temp):
        seen.append(Path(temp))
        assert target.read_bytes() == OLD  # the target is untouched while writing
        Path(temp).write_bytes(NEW)

    write_atomic(target, write)
    (temp,) = seen
    # the same folder, so the final move is a rename on one file system
    assert temp.parent == target.parent and temp != target
    assert not temp.exists()


@pytest.mark.parametrize("exists", [True, False], ids=["existing", "new"])
def test_write_atomic_failure_leaves_the_old_file_and_no_temporary_file(tmp_path, exists):
    """Check that a write failing half-way (a full disk) changes nothing on disk."""
    path = tmp_path / "model.pkl"
    if exists:
        path.write_bytes(OLD)
    with pytest.raises(DiskFull):
        write_atomic(path, _fill_half_then_fail)
    if exists:
        assert path.read_bytes() == OLD
        assert sorted(tmp_path.iterdir()) == [path]
    else:
        assert list(tmp_path.iterdir()) == []


def test_write_atomic_writer_that_removes_its_file_raises(target):
    """Check that a writer that leaves no file behind is an error, not a lost file."""
    with pytest.raises(FileNotFoundError):
        write_atomic(target, os.remove)
    assert target.read_bytes() == OLD
    assert sorted(target.parent.iterdir()) == [target]


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(
    "umask",
    [
        pytest.param(0o022, id="umask022"),
        pytest.param(0o002, id="umask002"),
        pytest.param(0o077, id="umask077"),  # a private umask keeps the file private
    ],
)
def test_write_atomic_file_mode_follows_the_umask(tmp_path, umask):
    """Check that the file gets the permissions any other new file would get."""
    previous = os.umask(umask)
    try:
        plain = tmp_path / "plain.bin"
        plain.write_bytes(NEW)
        path = tmp_path / "model.pkl"
        write_atomic(path, lambda temp: Path(temp).write_bytes(NEW))
    finally:
        os.umask(previous)
    assert _mode(path) == _mode(plain) == 0o666 & ~umask


def test_write_atomic_into_a_missing_folder_raises(tmp_path):
    """Check that a missing folder is an error, not created on the way."""
    path = tmp_path / "missing" / "model.pkl"
    with pytest.raises(FileNotFoundError):
        write_atomic(path, lambda temp: Path(temp).write_bytes(NEW))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "folder, write",
    [("missing", lambda temp: Path(temp).write_bytes(NEW)), (".", _fill_half_then_fail)],
    ids=["missing-folder", "disk-full"],
)
def test_write_atomic_error_names_the_target_not_the_temporary_file(tmp_path, folder, write):
    """Check that a failed write is reported against the file the user asked for."""
    path = (tmp_path / folder / "model.pkl").resolve()
    with pytest.raises(OSError) as excinfo:
        write_atomic(path, write)
    message = str(excinfo.value)
    assert str(path) in message and ".tmp" not in message
