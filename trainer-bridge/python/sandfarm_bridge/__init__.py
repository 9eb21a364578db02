"""sandfarm's trainer client: pull token-exact Arrow batches from a farm, ack them after the
training step, and drive policy updates.

    from sandfarm_bridge import BridgeClient

    client = BridgeClient("farm-host:50051", token=os.environ["SANDFARM_BRIDGE_TOKEN"])
    for batch in client.pull(rank=0, world_size=1):
        table = batch.table()          # pyarrow.Table, TrainingRow schema "1"
        ...train...
        batch.ack()

Needs grpcio and protobuf; `Batch.table()` needs pyarrow and `sandfarm_bridge.tensors` needs
numpy (and torch for tensors).
"""

from .client import Batch, BridgeClient, BridgeError, PolicyUpdate, Status

__all__ = ["Batch", "BridgeClient", "BridgeError", "PolicyUpdate", "Status"]
