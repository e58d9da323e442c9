"""Process-level allocator setting for the evaluation hot path."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["retain_freed_memory"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_done = False


def retain_freed_memory(mmap_threshold: int = 32 << 20, trim_threshold: int = 64 << 20) -> bool:
    """Let glibc's malloc reuse large freed blocks instead of returning them to the OS.

    Every population evaluation allocates and frees arrays of tens of MB
    (scenarios x buses); by default glibc maps each with mmap and unmaps it on
    free, so the next generation page-faults the memory back in. Raising the
    mmap and trim thresholds keeps it in the heap (one generation of 100 joint
    ieee33 plans x 3 x 24 x 100 scenarios: 4.6 s -> 2.7 s in one process).
    Called once per evaluating process; a no-op (returns False) off glibc.
    """
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold)) == 1
        ok &= libc.mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)) == 1
    except (OSError, AttributeError):
        return False
    _done = bool(ok)
    return _done
