"""glibc's malloc in a worker process: large blocks go back to the kernel when freed.

glibc serves a block of at least ``M_MMAP_THRESHOLD`` bytes (128 KiB at
start) with a mapping of its own, unmapped by ``free()``. But the threshold
is dynamic: the first free of such a mapped block raises it to that block's
size (up to 32 MiB), and the trim threshold to twice that. From then on a
view thread that reads a 1.5 MiB body (``request.body``, Django's in-memory
upload) takes it from its thread's malloc arena, each view thread has an
arena of its own, and an arena keeps what it once held: every worker grows
by a few MiB per view thread until each arena has seen its thread's peak
(docs/soak.md measured it: +10% RSS well after all threads existed).

Setting the thresholds once (``mallopt``) turns the dynamic adjustment
off, as glibc documents (``mallopt(3)``): blocks of 1 MiB or more (the size
past which the worker spools a request body to a file) are mapped and given
back at ``free()``, and arenas give back a free top above 384 KiB, keeping
no padding (``M_TOP_PAD`` 0). The price is a ``mmap``/``munmap`` and fresh
page faults per such block, small beside the I/O that carries a MiB.

The trim threshold must stay above the free top that the blocks every
request allocates and frees leave behind: asyncio's 256 KiB read buffer
(``sock.recv(256 KiB)``, shrunk to what arrived) is one. Under glibc's
default 128 KiB, set once, each read grew the heap with ``brk`` and each
free shrank it again: two system calls and a fresh page fault per request,
up to a quarter of a trivial request's cost (``strace -c -p WORKER`` under
wrk shows them; uvloop reads into a buffer of its own). Without padding,
the heap grows by what a block needs and the free top after the buffer
stays under the threshold; with glibc's 128 KiB of padding it could not
(256 + 128 KiB), and every arena kept that much more.

``ASYNC_APP_MALLOC_MMAP_THRESHOLD`` (bytes; default 1 MiB, ``0`` leaves
glibc's dynamic thresholds alone) sets it; glibc's own environment settings
(``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_TOP_PAD_``,
``MALLOC_MMAP_MAX_`` or ``glibc.malloc.*`` tunables in ``GLIBC_TUNABLES``),
read when the process started, take precedence: the worker then changes
nothing. Other C libraries (musl, macOS) are left alone.
"""

import ctypes
import os

__all__ = ["DEFAULT_MMAP_THRESHOLD", "tune_malloc"]

DEFAULT_MMAP_THRESHOLD = 1024 * 1024
# Above the free top asyncio's 256 KiB read buffer leaves: see the module docstring.
TRIM_THRESHOLD = 384 * 1024
TOP_PAD = 0
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3  # <malloc.h>
# glibc's own settings that already turn the dynamic thresholds off.
_GLIBC_SETTINGS = ("MMAP_THRESHOLD", "TRIM_THRESHOLD", "TOP_PAD", "MMAP_MAX")


def _glibc():
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (AttributeError, ValueError, OSError):
        return False


def tune_malloc(environ=None):
    """Fix glibc's mmap threshold in this process (see the module docstring).

    Returns the threshold set, or None when nothing was changed (opted
    out, glibc's own settings present, not glibc, or ``mallopt`` refused).
    """
    environ = os.environ if environ is None else environ
    value = environ.get("ASYNC_APP_MALLOC_MMAP_THRESHOLD", "").strip()
    threshold = int(value) if value else DEFAULT_MMAP_THRESHOLD
    if threshold <= 0:
        return None
    tunables = environ.get("GLIBC_TUNABLES", "")
    for name in _GLIBC_SETTINGS:
        if environ.get("MALLOC_%s_" % name) or "glibc.malloc.%s=" % name.lower() in tunables:
            return None
    if not _glibc():
        return None
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # The trim threshold too, as glibc pairs them: the arbiter's own frees
    # may have moved it before the fork.
    if mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) != 1 or mallopt(_M_TOP_PAD, TOP_PAD) != 1:
        return None
    return threshold if mallopt(_M_MMAP_THRESHOLD, threshold) == 1 else None
