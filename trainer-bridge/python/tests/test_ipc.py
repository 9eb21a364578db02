"""Unit tests of sandfarm_bridge.ipc, the numpy-only TrainingRow v1 reader, on the committed
fixture trainer-bridge/fixtures/batch-v1.arrow and on damaged copies of it. The fixture is
`trainingGroup(1, { rollouts: 2, tokens: 20, version: 3 })` of testing/training-rows.ts written
with batch id "fixture-0" and sequence 0 (trainer-bridge/arrow.test.ts checks that byte for
byte); `training_row` below rebuilds those rows. trainer-bridge/ipc-numpy.test.ts checks files
fresh from the TypeScript writer (several record batches, sampling metadata, an IPC stream)."""

import importlib.util
import pathlib
import struct
import unittest

import numpy as np

from sandfarm_bridge.generated import bridge_pb2 as pb
from sandfarm_bridge.client import Batch
from sandfarm_bridge.ipc import ListColumn, UnsupportedBatchError, read_batch
from sandfarm_bridge.tensors import batch_arrays, batch_arrays_from_decoded

HAVE_PYARROW = importlib.util.find_spec("pyarrow") is not None
FIXTURE = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "batch-v1.arrow"


def training_row(rollout_id, group_id, seed, tokens=64, version=0):
    """testing/training-rows.ts's trainingRow (default shape but tokens and version)."""
    prompt_length = tokens // 4
    index = np.arange(tokens)
    sampled = (index >= prompt_length) & ((index - prompt_length) % 16 < 12)
    return {
        "sample_id": f"{rollout_id}#0",
        "rollout_id": rollout_id,
        "group_id": group_id,
        "task_id": f"task-{group_id}",
        "domain": "math",
        "mode": "sandbox",
        "row_index": 0,
        "rows_in_rollout": 1,
        "token_ids": ((seed * 7919 + index * 104_729) % 151_000).astype(np.int32),
        "loss_mask": sampled.astype(np.uint8),
        "logprobs": np.where(sampled, -(((seed + index) % 97) + 1) / 50, 0).astype(np.float32),
        "versions": np.where(sampled, version, -1).astype(np.int32),
        "prompt_length": prompt_length,
        "reward": float(seed % 2),
        "advantage": (seed % 2) - 0.5,
        "stop_reason": "submitted",
        "num_turns": 1 + seed % 5,
        "trainable": True,
    }


FIXTURE_ROWS = [training_row(f"r1-{i}", "g1", 100 + i, tokens=20, version=3) for i in range(2)]


def fixture_bytes() -> bytes:
    return FIXTURE.read_bytes()


def footer_start(data: bytes) -> int:
    return len(data) - 10 - struct.unpack_from("<i", data, len(data) - 10)[0]


def patch_footer(data: bytes, old: bytes, new: bytes) -> bytes:
    """The file with `old` replaced by `new` (same length) once, inside the footer."""
    start = footer_start(data)
    assert data.count(old, start) == 1 and len(old) == len(new), old
    at = data.index(old, start)
    return data[:at] + new + data[at + len(old) :]


class FixtureTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.decoded = read_batch(fixture_bytes())

    def test_identity_and_metadata(self):
        decoded = self.decoded
        self.assertEqual(decoded.num_rows, 2)
        self.assertEqual(decoded.record_batches, 1)
        self.assertEqual(decoded.schema_version, "1")
        self.assertEqual(decoded.batch_id, "fixture-0")
        self.assertEqual(decoded.sequence, 0)
        self.assertIsNone(decoded.sampling)
        self.assertEqual(
            decoded.metadata,
            {
                "sandfarm.schema_version": "1",
                "sandfarm.batch_id": "fixture-0",
                "sandfarm.sequence": "0",
            },
        )

    def test_row_0_written_out(self):
        row = self.decoded.row(0)
        self.assertEqual(
            {
                name: row[name]
                for name in (
                    "sample_id", "rollout_id", "group_id", "task_id", "domain", "mode",
                    "stop_reason",
                )
            },
            {
                "sample_id": "r1-0#0",
                "rollout_id": "r1-0",
                "group_id": "g1",
                "task_id": "task-g1",
                "domain": "math",
                "mode": "sandbox",
                "stop_reason": "submitted",
            },
        )
        # seed 100: token i is (100 * 7919 + i * 104729) % 151000; prompt of 5 tokens.
        self.assertEqual(row["token_ids"][:3].tolist(), [36900, 141629, 95358])
        self.assertEqual(row["loss_mask"].tolist(), [0] * 5 + [1] * 12 + [0] * 3)
        self.assertEqual(row["versions"].tolist(), [-1] * 5 + [3] * 12 + [-1] * 3)
        # logprob i is -((100 + i) % 97 + 1) / 50 on sampled tokens: -0.18 at i = 5.
        self.assertEqual(row["logprobs"][5], np.float32(-0.18))
        self.assertEqual(row["logprobs"][16], np.float32(-0.4))
        self.assertEqual((row["reward"], row["advantage"], row["num_turns"]), (0.0, -0.5, 1))
        self.assertEqual(
            (row["prompt_length"], row["row_index"], row["rows_in_rollout"]), (5, 0, 1)
        )
        self.assertIs(row["trainable"], True)

    def test_every_value_of_every_row(self):
        for index, expected in enumerate(FIXTURE_ROWS):
            row = self.decoded.row(index)
            self.assertEqual(row.keys(), expected.keys())
            for name, value in expected.items():
                if isinstance(value, np.ndarray):
                    self.assertEqual(row[name].dtype, value.dtype, name)
                    np.testing.assert_array_equal(row[name], value, err_msg=name)
                else:
                    self.assertEqual(row[name], value, name)
        self.assertEqual(self.decoded.row(-1)["sample_id"], "r1-1#0")
        with self.assertRaises(IndexError):
            self.decoded.row(2)

    def test_columns_are_flat_arrays_viewing_the_bytes(self):
        tokens = self.decoded["token_ids"]
        self.assertIsInstance(tokens, ListColumn)
        self.assertEqual(tokens.offsets.dtype, np.int64)
        self.assertEqual(tokens.offsets.tolist(), [0, 20, 40])
        self.assertEqual(tokens.values.dtype, np.int32)
        self.assertFalse(tokens.values.flags.owndata)  # np.frombuffer view, no copy
        self.assertFalse(tokens.values.flags.writeable)
        np.testing.assert_array_equal(
            self.decoded["reward"], np.array([0.0, 1.0], dtype=np.float32)
        )
        np.testing.assert_array_equal(
            self.decoded["advantage"], np.array([-0.5, 0.5], dtype=np.float32)
        )
        self.assertEqual(self.decoded["trainable"].dtype, np.bool_)
        self.assertEqual(self.decoded["trainable"].tolist(), [True, True])
        self.assertEqual(self.decoded["sample_id"], ["r1-0#0", "r1-1#0"])

    def test_padded_arrays_without_pyarrow(self):
        arrays = batch_arrays_from_decoded(self.decoded, pad_token_id=7)
        self.assertEqual(
            {name: (a.dtype, a.shape) for name, a in arrays.items()},
            {
                "input_ids": (np.int64, (2, 20)),
                "loss_mask": (np.float32, (2, 20)),
                "old_logprobs": (np.float32, (2, 20)),
                "versions": (np.int64, (2, 20)),
                "attention_mask": (np.int64, (2, 20)),
                "advantages": (np.float32, (2,)),
                "rewards": (np.float32, (2,)),
                "trainable": (np.bool_, (2,)),
            },
        )
        self.assertEqual(arrays["input_ids"][1].tolist(), FIXTURE_ROWS[1]["token_ids"].tolist())
        self.assertEqual(arrays["attention_mask"].sum(), 40)
        np.testing.assert_array_equal(arrays["loss_mask"][0], FIXTURE_ROWS[0]["loss_mask"])
        # batch_arrays takes the decoded batch too.
        same = batch_arrays(self.decoded, pad_token_id=7)
        for name, array in arrays.items():
            np.testing.assert_array_equal(same[name], array, err_msg=name)

    def test_the_client_batch_decodes_with_numpy(self):
        batch = Batch(pb.BatchHeader(batch_id="fixture-0"), fixture_bytes(), stream=None)
        self.assertEqual(batch.decoded().num_rows, 2)
        self.assertIs(batch.decoded(), batch.decoded())
        self.assertIsNone(batch.sampling)
        arrays = batch.arrays(pad_token_id=0)
        self.assertEqual(arrays["input_ids"].shape, (2, 20))
        np.testing.assert_array_equal(arrays["advantages"], np.array([-0.5, 0.5], np.float32))

    @unittest.skipUnless(HAVE_PYARROW, "pyarrow is not installed")
    def test_the_same_arrays_as_through_pyarrow(self):
        import pyarrow as pa

        table = pa.ipc.open_file(pa.py_buffer(fixture_bytes())).read_all()
        through_table = batch_arrays(table, pad_token_id=3)
        through_numpy = batch_arrays_from_decoded(self.decoded, pad_token_id=3)
        self.assertEqual(through_table.keys(), through_numpy.keys())
        for name, array in through_table.items():
            self.assertEqual(through_numpy[name].dtype, array.dtype, name)
            np.testing.assert_array_equal(through_numpy[name], array, err_msg=name)


class RefusalTest(unittest.TestCase):
    def assertRefused(self, data: bytes, message: str):
        with self.assertRaises(UnsupportedBatchError) as caught:
            read_batch(data)
        self.assertIn(message, str(caught.exception))
        self.assertIsInstance(caught.exception, ValueError)

    def test_a_truncated_file(self):
        data = fixture_bytes()
        self.assertRefused(data[:-1], "truncated Arrow IPC file: no ARROW1 magic at its end")
        self.assertRefused(data[: len(data) // 2], "truncated Arrow IPC file")
        self.assertRefused(data[:4], "not an Arrow IPC file")
        self.assertRefused(b"", "not an Arrow IPC file")

    def test_a_footer_pointing_past_the_end(self):
        # The footer's Block {offset: 8, metaDataLength: 1264, bodyLength: 848}, as if the file
        # had lost the end of its record batch.
        block = struct.pack("<qi4xq", 8, 1264, 848)
        patched = patch_footer(fixture_bytes(), block, struct.pack("<qi4xq", 8, 1264, 10**6))
        self.assertRefused(patched, "truncated or corrupt record batch at byte 8")

    def test_wrong_magic(self):
        data = fixture_bytes()
        self.assertRefused(
            b"ARROW2" + data[6:], "not an Arrow IPC file: no ARROW1 magic at its start"
        )
        self.assertRefused(b"not arrow at all, not at all", "not an Arrow IPC file")

    def test_a_stream_rather_than_a_file(self):
        # The fixture's record-batch message framed as a stream would frame it (continuation
        # marker first, end-of-stream marker last); a real apache-arrow stream is refused in
        # ipc-numpy.test.ts.
        data = fixture_bytes()
        stream = data[8 : footer_start(data)] + b"\xff\xff\xff\xff\x00\x00\x00\x00"
        self.assertRefused(stream, "an Arrow IPC stream (this reader takes the IPC file format)")

    def test_another_schema_version(self):
        data = fixture_bytes()
        # The footer's KeyValue value "1" of sandfarm.schema_version: a flatbuffer string.
        patched = patch_footer(data, b"\x01\x00\x00\x001\x00", b"\x01\x00\x00\x009\x00")
        self.assertRefused(patched, "schema version '9' (this reader takes '1')")
        without = patch_footer(data, b"sandfarm.schema_version", b"sandfarm.schema_versiom")
        self.assertRefused(without, "a batch without sandfarm.schema_version metadata")

    def test_another_column_set(self):
        # The footer's name of column 13, a flatbuffer string: length 6, "reward", NUL.
        name = b"\x06\x00\x00\x00reward\x00"
        patched = patch_footer(fixture_bytes(), name, name.replace(b"reward", b"rewarx"))
        self.assertRefused(patched, "where TrainingRow v1 has")
        self.assertRefused(patched, "'rewarx'")

    def test_nulls(self):
        data = bytearray(fixture_bytes())
        # The record batch's FieldNodes {length: int64, null_count: int64}: 9 of {2 rows, 0},
        # then token_ids' child {40 values, 0}. Column 13 (reward) is node 17, after the
        # children of the 4 list columns; give it a null.
        nodes = struct.pack("<qq", 2, 0) * 9 + struct.pack("<qq", 40, 0)
        at = bytes(data).index(nodes, 8)
        struct.pack_into("<q", data, at + 16 * 17 + 8, 1)
        self.assertRefused(bytes(data), "column 'reward' has 1 nulls")


if __name__ == "__main__":
    unittest.main()
