"""Keep freed host memory in the process (glibc ``mallopt``), for long model-evaluation loops.

glibc serves every block above its mmap threshold with a fresh ``mmap`` and unmaps it on
``free``; a model call on a large graph allocates and frees gigabytes of such tensors, so
each call faults in and zeroes its whole working set again. ``pair_style ionmd`` switches
this off in its own process (``lmp_plugins/ionmd_host_memory.cpp``: SevenNet-0 on 1000 atoms
ran 1.9x faster); :func:`keep_freed_host_memory` does the same for a Python process such
as ``ionmd screen``. It changes process-wide allocator settings, so library code leaves the
call to the application.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

# glibc's mallopt parameter numbers (malloc.h)
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_MAX = -1, -2, -4
_USER_SETTINGS = ("IONMD_SYSTEM_MALLOC", "MALLOC_MMAP_MAX_", "MALLOC_MMAP_THRESHOLD_",
                  "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")


def keep_freed_host_memory() -> bool:
    """Serve large blocks from the heap and never trim it (glibc only).

    Returns
    -------
    bool
        True when applied; False on a non-glibc platform, or when the user tuned malloc
        (``MALLOC_*_`` variables, ``GLIBC_TUNABLES``) or set ``IONMD_SYSTEM_MALLOC``.
    """
    if any(name in os.environ for name in _USER_SETTINGS):
        return False
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):      # not glibc: no mallopt
        return False
    return all(mallopt(param, value) == 1 for param, value in
               ((_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, 2**31 - 1), (_M_TOP_PAD, 64 << 20)))
