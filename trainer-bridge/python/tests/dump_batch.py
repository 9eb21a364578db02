"""Driven by trainer-bridge/ipc-numpy.test.ts: decodes Arrow IPC files with the numpy-only
reader (sandfarm_bridge.ipc) and prints one JSON line per file: every row's every value, the
metadata and the padded arrays' shapes, or the refusal.

argv: FILE...
"""

import json
import sys

from sandfarm_bridge.ipc import UnsupportedBatchError, read_batch
from sandfarm_bridge.tensors import batch_arrays_from_decoded


def summary(path: str) -> dict:
    with open(path, "rb") as file:
        data = file.read()
    try:
        decoded = read_batch(data)
    except UnsupportedBatchError as error:
        return {"error": type(error).__name__, "message": str(error)}
    rows = []
    for index in range(decoded.num_rows):
        row = decoded.row(index)
        rows.append({name: value.tolist() if hasattr(value, "tolist") else value
                     for name, value in row.items()})
    arrays = batch_arrays_from_decoded(decoded, pad_token_id=0)
    return {
        "num_rows": decoded.num_rows,
        "record_batches": decoded.record_batches,
        "schema_version": decoded.schema_version,
        "batch_id": decoded.batch_id,
        "sequence": decoded.sequence,
        "sampling": decoded.sampling,
        "metadata": decoded.metadata,
        "token_offsets": decoded.columns["token_ids"].offsets.tolist(),
        "rows": rows,
        "arrays": {name: {"dtype": str(array.dtype), "shape": list(array.shape)}
                   for name, array in arrays.items()},
    }


def main() -> int:
    for path in sys.argv[1:]:
        print(json.dumps(summary(path)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
