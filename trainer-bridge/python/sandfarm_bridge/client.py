"""The gRPC client for sandfarm's trainer bridge (proto/sandfarm/v1/bridge.proto)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import queue
import socket
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional

import grpc

from .generated import bridge_pb2 as pb
from .generated import bridge_pb2_grpc as rpc

SCHEMA_VERSION = "1"

_PAUSE_MODES = {
    None: pb.PAUSE_MODE_UNSPECIFIED,
    "keep": pb.PAUSE_MODE_KEEP,
    "wait": pb.PAUSE_MODE_WAIT,
    "abort": pb.PAUSE_MODE_ABORT,
}

# grpc-core's defaults cap messages at 4 MiB; batches arrive in chunks that a client may ask
# to be larger (max_chunk_bytes), so lift the cap.
_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", -1),
    ("grpc.max_send_message_length", -1),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 20_000),
]


class BridgeError(RuntimeError):
    """A call to the farm failed; `code` is the grpc.StatusCode."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(f"{code.name}: {message}")
        self.code = code


@dataclass
class PolicyUpdate:
    """The farm's policy-update state after a call."""

    paused: bool
    committed_version: int
    pending_version: int
    replicas: List[dict] = field(default_factory=list)


@dataclass
class Status:
    run_id: str
    committed_version: int
    queued_batches: int
    queued_rows: int
    queued_tokens: int
    in_flight_batches: int
    acked_batches: int
    delivered_batches: int
    redelivered_batches: int
    backpressure: bool
    ranks: List[dict]


class Batch:
    """One batch: its header fields, its Arrow IPC bytes (what the farm spooled), its ack."""

    def __init__(self, header: pb.BatchHeader, data: bytes, stream: "_PullStream"):
        self.header = header
        self.data = data
        self._stream = stream
        self._acked = False
        self._decoded = None

    @property
    def batch_id(self) -> str:
        return self.header.batch_id

    @property
    def sequence(self) -> int:
        return self.header.sequence

    @property
    def metrics(self) -> Dict[str, float]:
        return dict(self.header.metrics)

    def table(self):
        """The rows as a pyarrow.Table (needs pyarrow). Checks the schema version."""
        import pyarrow as pa  # only trainers that want tables need pyarrow

        table = pa.ipc.open_file(pa.py_buffer(self.data)).read_all()
        version = (table.schema.metadata or {}).get(b"sandfarm.schema_version", b"").decode()
        if version != SCHEMA_VERSION:
            raise BridgeError(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"batch schema version {version!r}; this client reads {SCHEMA_VERSION!r}",
            )
        return table

    def decoded(self):
        """The rows decoded with numpy alone (`sandfarm_bridge.ipc.DecodedBatch`, no pyarrow):
        columns as numpy arrays that view `data`. Raises `ipc.UnsupportedBatchError` on another
        schema version or a file this reader does not take."""
        if self._decoded is None:
            from .ipc import read_batch  # numpy only

            self._decoded = read_batch(self.data)
        return self._decoded

    def arrays(self, pad_token_id: Optional[int] = 0) -> Dict[str, Any]:
        """The padded numpy arrays of `tensors.batch_arrays`: through pyarrow where it is
        installed, else through the numpy decoder (the same arrays either way)."""
        from .tensors import batch_arrays

        if importlib.util.find_spec("pyarrow") is not None:
            return batch_arrays(self.table(), pad_token_id)
        return batch_arrays(self.decoded(), pad_token_id)

    @property
    def sampling(self) -> Optional[Dict[str, Any]]:
        """The sampling parameters every rollout of the batch was sent with (schema metadata
        `sandfarm.sampling`, parsed), or None when the farm recorded none."""
        return self.decoded().sampling

    def ack(self, metrics: Optional[Dict[str, float]] = None) -> None:
        """Tells the farm the batch was trained on: it is never delivered again. `metrics` (finite
        numbers: loss, kl, clip_fraction, grad_norm, ...) are the training step's, recorded with
        the run beside the farm's. Raises BridgeError when the stream is already closed (the ack
        could not reach the farm)."""
        if self._acked:
            return
        values = {str(name): float(value) for name, value in (metrics or {}).items()}
        bad = [name for name, value in values.items() if value != value or value in (float("inf"), float("-inf"))]
        if bad:
            raise ValueError(f"ack metrics must be finite numbers; not {', '.join(sorted(bad))}")
        ack = pb.Ack(batch_id=self.header.batch_id)
        ack.metrics.update(values)
        if not self._stream.send(pb.PullRequest(ack=ack)):
            raise BridgeError(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"cannot ack {self.header.batch_id}: its stream is closed (the farm will deliver "
                "it again); ack before leaving the loop",
            )
        self._acked = True


class _PullStream:
    """One Pull call: a request queue feeding grpc's request iterator."""

    _END = object()

    def __init__(self, call_factory, hello: pb.Hello, verify: bool):
        self._requests: "queue.Queue[object]" = queue.Queue()
        self._requests.put(pb.PullRequest(hello=hello))
        self._verify = verify
        self._closed = False  # no more requests (half-closed or cancelled)
        self._drained = False
        self._lock = threading.Lock()
        self.welcome: Optional[pb.Welcome] = None
        self._responses = call_factory(self._request_iterator())

    def _request_iterator(self):
        while True:
            message = self._requests.get()
            if message is self._END:
                return
            yield message

    def send(self, message: pb.PullRequest) -> bool:
        """Queues a message; False when the stream is already closed."""
        with self._lock:
            if self._closed:
                return False
            self._requests.put(message)
            return True

    def close(self, wait: bool = True) -> None:
        """Half-closes the stream after the messages already queued (acks) are sent. With
        `wait`, returns once the farm ended the stream, which it does only after recording
        those acks durably; batches not acked go back to its queue."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._requests.put(self._END)
        if wait and not self._drained:
            self._drained = True
            try:
                for _ in self._responses:
                    pass  # a batch still arriving was not acked: the farm sends it again
            except grpc.RpcError as error:
                raise BridgeError(
                    error.code(), f"the stream ended badly; acks may not be recorded: {error.details()}"
                ) from error

    def cancel(self) -> None:
        """Drops the stream at once, like a crashed trainer: unsent acks are lost."""
        with self._lock:
            self._closed = True
            self._requests.put(self._END)  # lets grpc's request thread finish
        self._drained = True
        self._responses.cancel()

    def __iter__(self) -> Iterator[Batch]:
        header = None
        parts: List[bytes] = []
        try:
            for response in self._responses:
                kind = response.WhichOneof("kind")
                if kind == "welcome":
                    self.welcome = response.welcome
                elif kind == "header":
                    header, parts = response.header, []
                    if header.chunks == 0:
                        batch = self._complete(header, parts)
                        header = None
                        self.send(pb.PullRequest(credit=pb.Credit(batches=1)))
                        yield batch
                elif kind == "chunk" and header is not None:
                    chunk = response.chunk
                    if chunk.batch_id != header.batch_id or chunk.index != len(parts):
                        raise BridgeError(
                            grpc.StatusCode.DATA_LOSS,
                            f"chunk {chunk.index} of {chunk.batch_id} while assembling "
                            f"chunk {len(parts)} of {header.batch_id}",
                        )
                    parts.append(chunk.data)
                    if len(parts) == header.chunks:
                        batch = self._complete(header, parts)
                        header, parts = None, []
                        # The batch is taken: the farm may send one more while it is trained on.
                        self.send(pb.PullRequest(credit=pb.Credit(batches=1)))
                        yield batch
        except grpc.RpcError as error:
            if self._closed and error.code() == grpc.StatusCode.CANCELLED:
                return
            raise BridgeError(error.code(), error.details() or str(error)) from error
        finally:
            self.close(wait=False)

    def _complete(self, header: pb.BatchHeader, parts: List[bytes]) -> Batch:
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        if len(data) != header.ipc_bytes:
            raise BridgeError(
                grpc.StatusCode.DATA_LOSS,
                f"{header.batch_id}: {len(data)} bytes where the header says {header.ipc_bytes}",
            )
        if self._verify and hashlib.sha256(data).hexdigest() != header.sha256:
            raise BridgeError(
                grpc.StatusCode.DATA_LOSS, f"{header.batch_id}: bytes do not match the sha256"
            )
        return Batch(header, data, self)


class BridgeClient:
    """A connection to a farm's bridge.

    address: "host:port". token: sent as `authorization: Bearer <token>` (default: env
    SANDFARM_BRIDGE_TOKEN). tls: dict with optional "ca", "cert", "key" (PEM bytes) to use TLS,
    and "server_name" to override the name checked in the farm's certificate.
    """

    def __init__(self, address: str, token: Optional[str] = None, tls: Optional[dict] = None):
        token = token if token is not None else os.environ.get("SANDFARM_BRIDGE_TOKEN")
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        options = list(_CHANNEL_OPTIONS)
        if tls is not None:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=tls.get("ca"),
                private_key=tls.get("key"),
                certificate_chain=tls.get("cert"),
            )
            if tls.get("server_name"):
                options.append(("grpc.ssl_target_name_override", tls["server_name"]))
            self._channel = grpc.secure_channel(address, credentials, options=options)
        else:
            self._channel = grpc.insecure_channel(address, options=options)
        self._stub = rpc.TrainerBridgeStub(self._channel)

    def pull(
        self,
        rank: int = 0,
        world_size: int = 1,
        credits: int = 2,
        verify: bool = True,
        max_chunk_bytes: int = 0,
        trainer_id: Optional[str] = None,
    ) -> "_PullStream":
        """Opens a Pull stream; iterate it for `Batch`es. `credits` is the prefetch depth."""
        hello = pb.Hello(
            rank=rank,
            world_size=world_size,
            credits=credits,
            trainer_id=trainer_id or f"{socket.gethostname()}:{os.getpid()}",
            max_chunk_bytes=max_chunk_bytes,
        )
        return _PullStream(
            lambda requests: self._stub.Pull(requests, metadata=self._metadata), hello, verify
        )

    def _unary(self, method, request):
        try:
            return method(request, metadata=self._metadata)
        except grpc.RpcError as error:
            raise BridgeError(error.code(), error.details() or str(error)) from error

    @staticmethod
    def _update(reply: pb.PolicyUpdateReply) -> PolicyUpdate:
        return PolicyUpdate(
            paused=reply.state == pb.UPDATE_STATE_PAUSED,
            committed_version=reply.committed_version,
            pending_version=reply.pending_version,
            replicas=[
                {"url": r.url, "ok": r.ok, "error": r.error, "elapsed_ms": r.elapsed_ms}
                for r in reply.replicas
            ],
        )

    def begin_policy_update(self, version: int, pause_mode: Optional[str] = None) -> PolicyUpdate:
        """Stops the farm's model calls and pauses its replicas for `version`."""
        request = pb.BeginPolicyUpdateRequest(version=version, pause_mode=_PAUSE_MODES[pause_mode])
        return self._update(self._unary(self._stub.BeginPolicyUpdate, request))

    def load_lora_adapter(
        self, version: int, name: str, path: str, load_inplace: bool = False
    ) -> PolicyUpdate:
        """Asks the farm to load a LoRA adapter (a path the replicas can read)."""
        request = pb.LoadPolicyWeightsRequest(
            version=version, lora=pb.LoraAdapter(name=name, path=path, load_inplace=load_inplace)
        )
        return self._update(self._unary(self._stub.LoadPolicyWeights, request))

    def load_weights_path(self, version: int, path: str) -> PolicyUpdate:
        """Asks the farm to load a checkpoint directory on its replicas."""
        request = pb.LoadPolicyWeightsRequest(version=version, weights_path=path)
        return self._update(self._unary(self._stub.LoadPolicyWeights, request))

    def commit_policy_update(self, version: int) -> PolicyUpdate:
        """Resumes the replicas; tokens sampled from now on carry `version`."""
        request = pb.CommitPolicyUpdateRequest(version=version)
        return self._update(self._unary(self._stub.CommitPolicyUpdate, request))

    def abort_policy_update(self, version: int, reason: str = "") -> PolicyUpdate:
        """Resumes the replicas at the old version."""
        request = pb.AbortPolicyUpdateRequest(version=version, reason=reason)
        return self._update(self._unary(self._stub.AbortPolicyUpdate, request))

    def status(self) -> Status:
        reply = self._unary(self._stub.GetStatus, pb.GetStatusRequest())
        return Status(
            run_id=reply.run_id,
            committed_version=reply.committed_version,
            queued_batches=reply.queued_batches,
            queued_rows=reply.queued_rows,
            queued_tokens=reply.queued_tokens,
            in_flight_batches=reply.in_flight_batches,
            acked_batches=reply.acked_batches,
            delivered_batches=reply.delivered_batches,
            redelivered_batches=reply.redelivered_batches,
            backpressure=reply.backpressure,
            ranks=[
                {"rank": r.rank, "world_size": r.world_size, "trainer_id": r.trainer_id}
                for r in reply.ranks
            ],
        )

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "BridgeClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
