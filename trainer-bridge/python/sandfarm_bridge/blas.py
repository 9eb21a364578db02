"""One BLAS thread for small models. OpenBLAS's worker threads wait for work by spinning on
sched_yield; measured here with the tiny policy's server under `sandfarm train`, its one worker
thread burned most of a core (mostly system time) while the matrices it was offered were far too
small to gain from a second thread, and that core was the sandboxes' and the farm's. Setting
OPENBLAS_NUM_THREADS only works before the library loads, and importing numpy or torch loads it,
so this asks the loaded library itself (what threadpoolctl does). An explicit
OPENBLAS_NUM_THREADS in the environment wins.

    from sandfarm_bridge.blas import single_blas_thread
    single_blas_thread()   # True when OpenBLAS was found and told
"""

from __future__ import annotations

import ctypes
import os


def single_blas_thread() -> bool:
    if "OPENBLAS_NUM_THREADS" in os.environ:
        return False
    for name in ("libopenblas.so.0", "libopenblas.so", "libopenblasp-r0.3.so"):
        try:
            library = ctypes.CDLL(name)
        except OSError:
            continue
        setter = getattr(library, "openblas_set_num_threads", None)
        if setter is not None:
            setter(1)
            return True
    return False
