"""Write an output file whole or not at all, never through a planted link.

Every file ecgprep writes as a result (``submission.csv``, the summary, the
gallery page) goes through :func:`atomic_output`: the content is written to a
temporary file that :func:`tempfile.mkstemp` creates exclusively, with an
unpredictable name, in the destination's own folder (so a link or file planted
at ``<out>.tmp`` is never opened, and the rename stays on one file system). The
file is flushed to disk and then renamed over the destination with
:func:`os.replace`. Any exception, ``KeyboardInterrupt`` included, removes the
temporary file and leaves the previous destination (or none) as it was.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["atomic_output", "write_atomic"]


def _new_file_mode(dest: Path) -> int:
    """The mode the destination would get from a plain ``open``: its own if it exists,
    else 0o666 less the umask (``mkstemp`` creates 0o600)."""
    try:
        return stat.S_IMODE(os.stat(dest).st_mode)
    except OSError:
        pass
    try:  # Linux: read the umask without changing it (no race with other threads)
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _fsync_path(path: str | os.PathLike, *, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:  # a folder cannot be opened on Windows: nothing to sync
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on folders
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a fresh temporary path beside ``path``; on success it replaces ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        The destination. Its folder must exist.

    Yields
    ------
    Path
        An empty file created exclusively (``.<name>.<random>.tmp``) in the
        destination's folder, for the caller to write by path.

    Examples
    --------
    >>> import os, tempfile
    >>> from pathlib import Path
    >>> d = tempfile.mkdtemp()
    >>> with atomic_output(os.path.join(d, "out.txt")) as tmp:
    ...     _ = tmp.write_text("all or nothing")
    >>> Path(d, "out.txt").read_text(), os.listdir(d)
    ('all or nothing', ['out.txt'])
    """
    dest = Path(path)
    folder = dest.parent
    mode = _new_file_mode(dest)
    fd, name = tempfile.mkstemp(dir=folder, prefix=f".{dest.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, mode)
        _fsync_path(tmp)
        os.replace(tmp, dest)
    except BaseException:  # KeyboardInterrupt and SystemExit too: never leave the temp file
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_path(folder, directory=True)  # the rename itself survives a power cut


def write_atomic(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp_path)`` and move the result onto ``path`` whole (see
    :func:`atomic_output`); returns ``path`` as a :class:`~pathlib.Path`.

    Examples
    --------
    >>> import os, tempfile
    >>> p = write_atomic(os.path.join(tempfile.mkdtemp(), "a.txt"), lambda t: t.write_text("x"))
    >>> p.read_text()
    'x'
    """
    with atomic_output(path) as tmp:
        write(tmp)
    return Path(path)
