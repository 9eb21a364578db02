"""single_blas_thread: the loaded OpenBLAS is told to use one thread, unless the user said."""

import ctypes
import os
import unittest
from unittest import mock

import torch  # noqa: F401  (loads OpenBLAS, as the server and the trainer do)

from sandfarm_bridge.blas import single_blas_thread


def openblas():
    try:
        return ctypes.CDLL("libopenblas.so.0")
    except OSError as error:
        raise AssertionError("OpenBLAS is not installed: apt-get install libopenblas0-pthread") from error


class SingleBlasThreadTest(unittest.TestCase):
    def test_tells_the_loaded_library_one_thread(self):
        library = openblas()
        library.openblas_set_num_threads(2)
        self.assertEqual(library.openblas_get_num_threads(), 2)
        with mock.patch.dict(os.environ, {}, clear=False):
            os.environ.pop("OPENBLAS_NUM_THREADS", None)
            self.assertTrue(single_blas_thread())
        self.assertEqual(library.openblas_get_num_threads(), 1)

    def test_leaves_an_explicit_setting_alone(self):
        library = openblas()
        library.openblas_set_num_threads(2)
        with mock.patch.dict(os.environ, {"OPENBLAS_NUM_THREADS": "2"}):
            self.assertFalse(single_blas_thread())
        self.assertEqual(library.openblas_get_num_threads(), 2)
        library.openblas_set_num_threads(1)


if __name__ == "__main__":
    unittest.main()
