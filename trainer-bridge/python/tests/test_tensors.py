"""Unit tests of sandfarm_bridge.tensors. pad_ragged needs numpy only; the table and torch
parts run where pyarrow and torch are installed (Debian 12 packages neither pyarrow nor, by
default, torch, so they are skipped here and the README says so)."""

import importlib.util
import math
import unittest

import numpy as np

from sandfarm_bridge.tensors import pad_ragged

HAVE_TORCH = importlib.util.find_spec("torch") is not None
HAVE_PYARROW = importlib.util.find_spec("pyarrow") is not None


class PadRaggedTest(unittest.TestCase):
    def test_rows_are_right_padded_to_the_longest(self):
        values = np.array([5, 6, 7, 8, 9, 10], dtype=np.int32)
        out = pad_ragged(values, np.array([0, 2, 2, 6]), -1, np.int64)
        self.assertEqual(out.dtype, np.int64)
        self.assertEqual(out.tolist(), [[5, 6, -1, -1], [-1, -1, -1, -1], [7, 8, 9, 10]])

    def test_offsets_that_do_not_start_at_zero_are_honoured(self):
        # A sliced Arrow list array: its offsets start inside the values buffer.
        values = np.arange(10, dtype=np.float32)
        out = pad_ragged(values, np.array([3, 4, 7]), 0.5, np.float32)
        self.assertEqual(out.tolist(), [[3.0, 0.5, 0.5], [4.0, 5.0, 6.0]])

    def test_no_rows(self):
        self.assertEqual(pad_ragged(np.array([]), np.array([0]), 0, np.int64).shape, (0, 0))


@unittest.skipUnless(HAVE_TORCH, "torch is not installed")
class ClippedLossTest(unittest.TestCase):
    def test_matches_the_surrogate_computed_by_hand(self):
        import torch

        from sandfarm_bridge.tensors import clipped_pg_loss

        new = torch.tensor([[0.0, math.log(0.5), math.log(0.9)]])
        old = torch.tensor([[0.0, math.log(0.25), math.log(0.9)]])
        mask = torch.tensor([[0.0, 1.0, 1.0]])
        advantage = torch.tensor([2.0])
        # ratios 2.0 (clipped to 1.2) and 1.0: -(min(4, 2.4) + min(2, 2)) / 2 = -2.2
        loss = clipped_pg_loss(new, old, advantage, mask)
        self.assertAlmostEqual(float(loss), -2.2, places=5)


@unittest.skipUnless(HAVE_PYARROW, "pyarrow is not installed")
class BatchArraysTest(unittest.TestCase):
    def test_a_table_becomes_padded_arrays(self):
        import pyarrow as pa

        from sandfarm_bridge.tensors import batch_arrays

        table = pa.table(
            {
                "token_ids": pa.array([[1, 2, 3], [4]], pa.list_(pa.int32())),
                "loss_mask": pa.array([[0, 1, 1], [1]], pa.list_(pa.uint8())),
                "logprobs": pa.array([[0, -0.5, -0.25], [-1]], pa.list_(pa.float32())),
                "versions": pa.array([[-1, 3, 3], [2]], pa.list_(pa.int32())),
                "advantage": pa.array([0.5, -0.5], pa.float32()),
                "reward": pa.array([1.0, 0.0], pa.float32()),
                "trainable": pa.array([True, False]),
            }
        )
        arrays = batch_arrays(table, pad_token_id=9)
        self.assertEqual(arrays["input_ids"].tolist(), [[1, 2, 3], [4, 9, 9]])
        self.assertEqual(arrays["attention_mask"].tolist(), [[1, 1, 1], [1, 0, 0]])
        self.assertEqual(arrays["loss_mask"].tolist(), [[0, 1, 1], [0, 0, 0]])
        self.assertEqual(arrays["versions"].tolist(), [[-1, 3, 3], [2, -1, -1]])


if __name__ == "__main__":
    unittest.main()
