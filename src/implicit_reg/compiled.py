"""Compiled loops: numba's ``njit`` with its on-disk cache, one decorator for every family.

The sequential recursions of the experiments (SGD with batch one, the OU and quadratic
recursions, gradient descent on small factorizations) are bound by the interpreter's
per-step overhead, not by arithmetic: a step of a few hundred floating-point operations
costs microseconds through numpy and nanoseconds compiled. :func:`compiled` compiles such
a loop with numba (https://numba.pydata.org) in strict IEEE arithmetic (no ``fastmath``:
no reassociation, so a compiled loop computes what the same loop computes in Python,
operation by operation) and caches the machine code on disk, so a job compiles a kernel
once per machine and every later job only loads it.

Where numba puts its cache: beside the module's ``__pycache__`` when that is writable,
otherwise the user's cache directory; ``NUMBA_CACHE_DIR`` overrides both (useful on a
cluster whose home directory is not shared with the compute nodes).

Random numbers are never drawn inside a kernel: the caller draws them with the
experiment's ``numpy.random.Generator`` (the same streams as the uncompiled code) and
passes the arrays in.
"""

from collections.abc import Callable
from typing import TypeVar

import numba

Function = TypeVar("Function", bound=Callable)


def compiled(function: Function) -> Function:
    """``function`` compiled by numba in nopython mode, cached on disk, GIL released.

    Parameters
    ----------
    function
        A loop over numpy arrays and scalars that numba's nopython mode accepts.

    Returns
    -------
    The dispatcher; its ``py_func`` attribute is the plain Python function, which tests
    call to compare the compiled and interpreted arithmetic.
    """
    return numba.njit(cache=True, nogil=True, fastmath=False, error_model="numpy")(function)
