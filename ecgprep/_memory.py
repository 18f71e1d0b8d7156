"""Ask the C allocator to keep freed memory for reuse (glibc only).

A page of 2200 x 1700 px is processed through dozens of full-size arrays. glibc
gives freed memory back to the system and maps it again for the next image, and
every page mapped again costs a fault: about a tenth of a worker's time per image.
A process that keeps its freed memory reuses it instead. This is done in the
worker processes of a loky batch (they exist for the batch; see
``Options.reuse_memory``) and in the benchmark's own timing process, never in
the caller's process.
"""

from __future__ import annotations

import sys

__all__ = ["keep_freed_memory", "keep_freed_memory_once"]

_DONE: list[bool] = []


def keep_freed_memory() -> bool:
    """Turn off glibc's trimming and let blocks up to 32 MB come from the reused heap.

    Returns False where this cannot be done (not Linux with glibc).
    """
    import ctypes
    import ctypes.util

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    ok_mmap = mallopt(m_mmap_threshold, 32 * 1024 * 1024)  # glibc's largest
    ok_trim = mallopt(m_trim_threshold, 2**31 - 1)
    return bool(ok_mmap and ok_trim)


def keep_freed_memory_once() -> bool:
    """:func:`keep_freed_memory`, the first time it is called in this process."""
    if not _DONE:
        _DONE.append(keep_freed_memory())
    return _DONE[0]
