"""sandfarm's trainer client: pull token-exact Arrow batches from a farm, ack them after the
training step, and drive policy updates.

    from sandfarm_bridge import BridgeClient

    client = BridgeClient("farm-host:50051", token=os.environ["SANDFARM_BRIDGE_TOKEN"])
    for batch in client.pull(rank=0, world_size=1):
        arrays = batch.arrays()        # padded numpy arrays (pyarrow if installed, else numpy only)
        ...train...
        batch.ack()

Needs grpcio and protobuf; `Batch.arrays()` and `sandfarm_bridge.tensors` need numpy (and torch
for tensors); `Batch.table()` needs pyarrow, `Batch.decoded()` does not (`sandfarm_bridge.ipc`).
"""

from .client import Batch, BridgeClient, BridgeError, PolicyUpdate, Status

__all__ = ["Batch", "BridgeClient", "BridgeError", "PolicyUpdate", "Status"]
