"""Ask the C allocator to keep freed memory for reuse (glibc only).

A page of 2200 x 1700 px is processed through dozens of full-size arrays. glibc
gives freed memory back to the system and maps it again for the next image, and
every page mapped again costs a fault: about a tenth of a worker's time per image.
A process that keeps its freed memory reuses it instead. This is done in the
worker processes of a loky batch (see ``Options.reuse_memory``), never in the
caller's process. The setting is the process's: it stays until the process ends.
"""

from __future__ import annotations

import sys

__all__ = ["keep_freed_memory", "keep_freed_memory_once"]

_DONE: list[bool] = []


def keep_freed_memory() -> bool:
    """Turn off glibc's trimming and let blocks up to 32 MB come from the reused heap.

    Returns False, changing nothing, where this cannot be done (not Linux with
    glibc: elsewhere ``mallopt`` is missing or refuses).
    """
    import ctypes

    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library already loaded
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    # glibc's largest threshold: 32 MB on 64-bit systems, 16 MB on 32-bit ones
    if not any(mallopt(m_mmap_threshold, mb * 1024 * 1024) for mb in (32, 16)):
        return False
    return bool(mallopt(m_trim_threshold, 2**31 - 1))


def keep_freed_memory_once() -> bool:
    """:func:`keep_freed_memory`, the first time it is called in this process."""
    if not _DONE:
        _DONE.append(keep_freed_memory())
    return _DONE[0]
