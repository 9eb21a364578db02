"""A numpy-only reader of sandfarm's own `TrainingRow` v1 batches, for trainers without pyarrow.

    from sandfarm_bridge.ipc import read_batch

    decoded = read_batch(batch.data)
    decoded.num_rows, decoded.batch_id, decoded.sampling
    decoded.columns["token_ids"].values, decoded.columns["token_ids"].offsets
    decoded.row(0)["sample_id"]

It reads exactly what `trainer-bridge/arrow.ts` writes: one Arrow IPC *file* (magic `ARROW1`,
a flatbuffer footer listing the schema and the record batches), little-endian, schema metadata
`sandfarm.schema_version` "1", the 18 non-nullable columns of `EXPECTED_COLUMNS` in that order,
no nulls, no dictionaries, no body compression, in one or several record batches. Anything else
(an IPC stream, another column set or type, another schema version, big-endian data,
compressed bodies, dictionaries, null values, a truncated file) raises `UnsupportedBatchError`
naming what it met. For other Arrow data use pyarrow (`Batch.table()`).

Columns come back concatenated across record batches: list columns as a `ListColumn` (flat
`values` and int64 `offsets` starting at 0), Int32/Float32 columns as numpy arrays, Bool as a
numpy bool array, Utf8 as a list of str. With a single record batch the numeric arrays are
read-only views of the input bytes (no copy).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np

SCHEMA_VERSION = "1"
SCHEMA_VERSION_KEY = "sandfarm.schema_version"
BATCH_ID_KEY = "sandfarm.batch_id"
SEQUENCE_KEY = "sandfarm.sequence"
SAMPLING_KEY = "sandfarm.sampling"

MAGIC = b"ARROW1"
CONTINUATION = 0xFFFFFFFF

# The columns in order, as arrow.ts's FIELDS writes them: name -> type ("list<...>" for lists).
EXPECTED_COLUMNS: Tuple[Tuple[str, str], ...] = (
    ("sample_id", "utf8"),
    ("rollout_id", "utf8"),
    ("group_id", "utf8"),
    ("task_id", "utf8"),
    ("domain", "utf8"),
    ("mode", "utf8"),
    ("row_index", "int32"),
    ("rows_in_rollout", "int32"),
    ("token_ids", "list<int32>"),
    ("loss_mask", "list<uint8>"),
    ("logprobs", "list<float32>"),
    ("versions", "list<int32>"),
    ("prompt_length", "int32"),
    ("reward", "float32"),
    ("advantage", "float32"),
    ("stop_reason", "utf8"),
    ("num_turns", "int32"),
    ("trainable", "bool"),
)

# Little-endian numpy dtypes of the fixed-width types above.
_DTYPES = {"int32": np.dtype("<i4"), "uint8": np.dtype("u1"), "float32": np.dtype("<f4")}

# Arrow's Type union (Schema.fbs), for naming types in messages.
_TYPE_NAMES = {
    0: "none", 1: "null", 2: "int", 3: "floating point", 4: "binary", 5: "utf8", 6: "bool",
    7: "decimal", 8: "date", 9: "time", 10: "timestamp", 11: "interval", 12: "list",
    13: "struct", 14: "union", 15: "fixed-size binary", 16: "fixed-size list", 17: "map",
    18: "duration", 19: "large binary", 20: "large utf8", 21: "large list",
    22: "run-end encoded", 23: "binary view", 24: "utf8 view", 25: "list view",
    26: "large list view",
}
_TYPE_INT, _TYPE_FLOAT, _TYPE_LIST = 2, 3, 12
_FLOAT_PRECISIONS = {0: "float16", 1: "float32", 2: "float64"}

# Message header union (Message.fbs) and MetadataVersion (V4 = 3, V5 = 4).
_HEADER_NAMES = {1: "schema", 2: "dictionary batch", 3: "record batch", 4: "tensor",
                 5: "sparse tensor"}
_HEADER_RECORD_BATCH = 3
_MIN_METADATA_VERSION = 3


class UnsupportedBatchError(ValueError):
    """The bytes are not a sandfarm TrainingRow v1 Arrow IPC file this reader can decode."""


# ---------------------------------------------------------------------------------------------
# Flatbuffers: just the reads the Arrow metadata needs. Fields are read by slot, their order in
# the format's .fbs files (a union takes two slots: its type, then its table):
#   Footer (File.fbs):   0 version, 1 schema, 2 dictionaries [Block], 3 recordBatches [Block]
#   Schema:              0 endianness, 1 fields [Field], 2 custom_metadata [KeyValue {key, value}]
#   Field:               0 name, 1 nullable, 2 type_type, 3 type, 4 dictionary, 5 children
#   Int: 0 bitWidth, 1 is_signed.   FloatingPoint: 0 precision
#   Message:             0 version, 1 header_type, 2 header, 3 bodyLength
#   RecordBatch:         0 length, 1 nodes [FieldNode], 2 buffers [Buffer], 3 compression
# ---------------------------------------------------------------------------------------------


class _Table:
    """A flatbuffer table at `pos` of `buf`; fields are read by their vtable slot number."""

    def __init__(self, buf: memoryview, pos: int, what: str):
        self.buf = buf
        self.pos = pos
        self.what = what
        vtable = pos - _unpack("<i", buf, pos, what)
        self._vtable_size = _unpack("<H", buf, vtable, what)
        self._vtable = vtable

    def _field(self, slot: int) -> int:
        """The field's offset inside the table, 0 when the field is absent."""
        entry = 4 + 2 * slot
        if entry >= self._vtable_size:
            return 0
        return _unpack("<H", self.buf, self._vtable + entry, self.what)

    def has(self, slot: int) -> bool:
        return self._field(slot) != 0

    def scalar(self, slot: int, fmt: str, default):
        offset = self._field(slot)
        return default if offset == 0 else _unpack(fmt, self.buf, self.pos + offset, self.what)

    def _target(self, slot: int) -> Optional[int]:
        offset = self._field(slot)
        if offset == 0:
            return None
        at = self.pos + offset
        return at + _unpack("<I", self.buf, at, self.what)

    def table(self, slot: int) -> Optional["_Table"]:
        target = self._target(slot)
        return None if target is None else _Table(self.buf, target, self.what)

    def string(self, slot: int) -> Optional[str]:
        target = self._target(slot)
        return None if target is None else _string_at(self.buf, target, self.what)

    def vector(self, slot: int) -> Tuple[int, int]:
        """(position of the first element, element count); (0, 0) when absent."""
        target = self._target(slot)
        if target is None:
            return 0, 0
        return target + 4, _unpack("<I", self.buf, target, self.what)

    def tables(self, slot: int) -> List["_Table"]:
        start, count = self.vector(slot)
        out = []
        for index in range(count):
            at = start + 4 * index
            out.append(_Table(self.buf, at + _unpack("<I", self.buf, at, self.what), self.what))
        return out

    def structs(self, slot: int, fmt: str) -> List[tuple]:
        start, count = self.vector(slot)
        size = struct.calcsize(fmt)
        _check_range(self.buf, start, size * count, self.what)
        return [struct.unpack_from(fmt, self.buf, start + size * index) for index in range(count)]


def _check_range(buf: memoryview, pos: int, length: int, what: str) -> None:
    if pos < 0 or length < 0 or pos + length > len(buf):
        raise UnsupportedBatchError(f"truncated or corrupt {what}: bytes {pos}..{pos + length} "
                                    f"are outside its {len(buf)} bytes")


def _unpack(fmt: str, buf: memoryview, pos: int, what: str):
    _check_range(buf, pos, struct.calcsize(fmt), what)
    return struct.unpack_from(fmt, buf, pos)[0]


def _string_at(buf: memoryview, pos: int, what: str) -> str:
    length = _unpack("<I", buf, pos, what)
    _check_range(buf, pos + 4, length, what)
    try:
        return bytes(buf[pos + 4 : pos + 4 + length]).decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnsupportedBatchError(f"corrupt {what}: a string is not UTF-8 ({error})") from None


def _root(buf: memoryview, what: str) -> _Table:
    return _Table(buf, _unpack("<I", buf, 0, what), what)


# ---------------------------------------------------------------------------------------------
# The decoded batch.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListColumn:
    """A list column: row i is `values[offsets[i]:offsets[i + 1]]`; offsets start at 0."""

    values: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def row(self, index: int) -> np.ndarray:
        return self.values[self.offsets[index] : self.offsets[index + 1]]


Column = Union[ListColumn, np.ndarray, List[str]]


@dataclass(frozen=True)
class DecodedBatch:
    """One batch's columns (by name, in schema order) and its schema metadata."""

    num_rows: int
    columns: Dict[str, Column]
    metadata: Dict[str, str]
    schema_version: str
    batch_id: Optional[str]
    sequence: Optional[int]
    sampling: Optional[Dict[str, Any]]
    record_batches: int

    def __getitem__(self, name: str) -> Column:
        return self.columns[name]

    def row(self, index: int) -> Dict[str, Any]:
        """Row `index` as a dict: lists as numpy slices, numbers as Python scalars."""
        if not -self.num_rows <= index < self.num_rows:
            raise IndexError(f"row {index} of a batch of {self.num_rows} rows")
        index %= self.num_rows
        out: Dict[str, Any] = {}
        for name, column in self.columns.items():
            if isinstance(column, ListColumn):
                out[name] = column.row(index)
            elif isinstance(column, np.ndarray):
                out[name] = column[index].item()
            else:
                out[name] = column[index]
        return out


# ---------------------------------------------------------------------------------------------
# The IPC file.
# ---------------------------------------------------------------------------------------------


def read_batch(data: Union[bytes, bytearray, memoryview]) -> DecodedBatch:
    """Decodes one TrainingRow v1 Arrow IPC file; raises UnsupportedBatchError otherwise."""
    buf = memoryview(data).cast("B")
    footer = _read_footer(buf)
    version = footer.scalar(0, "<h", 0)
    if version < _MIN_METADATA_VERSION:
        raise UnsupportedBatchError(f"Arrow metadata version V{version + 1} (this reader: V4+)")
    if footer.vector(2)[1]:
        raise UnsupportedBatchError("dictionary batches (dictionary-encoded columns)")
    schema = footer.table(1)
    if schema is None:
        raise UnsupportedBatchError("an Arrow file footer without a schema")
    metadata = _read_schema(schema)
    blocks = footer.structs(3, "<qi4xq")  # Block {offset: long, metaDataLength: int, bodyLength}
    parts = [_read_record_batch(buf, *block) for block in blocks]
    columns: Dict[str, Column] = {}
    for index, (name, kind) in enumerate(EXPECTED_COLUMNS):
        columns[name] = _concat(kind, [columns_of[index] for _, columns_of in parts])
    return DecodedBatch(
        num_rows=sum(rows for rows, _ in parts),
        columns=columns,
        metadata=metadata,
        schema_version=metadata[SCHEMA_VERSION_KEY],
        batch_id=metadata.get(BATCH_ID_KEY),
        sequence=_sequence(metadata),
        sampling=_sampling(metadata),
        record_batches=len(parts),
    )


def _read_footer(buf: memoryview) -> _Table:
    size = len(buf)
    if size >= 8 and struct.unpack_from("<I", buf, 0)[0] == CONTINUATION:
        raise UnsupportedBatchError("an Arrow IPC stream (this reader takes the IPC file format)")
    if size < 8 or bytes(buf[:6]) != MAGIC:
        raise UnsupportedBatchError("not an Arrow IPC file: no ARROW1 magic at its start")
    if size < 8 + 6 + 4 or bytes(buf[size - 6 :]) != MAGIC:
        raise UnsupportedBatchError("truncated Arrow IPC file: no ARROW1 magic at its end")
    footer_length = struct.unpack_from("<i", buf, size - 10)[0]
    footer_start = size - 10 - footer_length
    if footer_length <= 0 or footer_start < 8:
        raise UnsupportedBatchError(f"corrupt Arrow IPC file: footer length {footer_length}")
    return _root(buf[footer_start : size - 10], "Arrow file footer")


def _read_schema(schema: _Table) -> Dict[str, str]:
    if schema.scalar(0, "<h", 0) != 0:
        raise UnsupportedBatchError("big-endian data (this reader takes little-endian)")
    metadata = {}
    for entry in schema.tables(2):
        metadata[entry.string(0) or ""] = entry.string(1) or ""
    version = metadata.get(SCHEMA_VERSION_KEY)
    if version != SCHEMA_VERSION:
        raise UnsupportedBatchError(
            f"schema version {version!r} (this reader takes {SCHEMA_VERSION!r})"
            if version is not None
            else f"a batch without {SCHEMA_VERSION_KEY} metadata (not a sandfarm TrainingRow batch)"
        )
    fields = schema.tables(1)
    names = [field.string(0) for field in fields]
    if names != [name for name, _ in EXPECTED_COLUMNS]:
        raise UnsupportedBatchError(
            f"columns {names} where TrainingRow v1 has {[name for name, _ in EXPECTED_COLUMNS]}"
        )
    for index, (field, (name, kind)) in enumerate(zip(fields, EXPECTED_COLUMNS)):
        found = _type_of(field)
        if found != kind:
            raise UnsupportedBatchError(f"column {index} '{name}' is {found}, expected {kind}")
    return metadata


def _type_of(field: _Table) -> str:
    """The field's type as EXPECTED_COLUMNS spells it, with ' (nullable)' or ' (dictionary)'."""
    type_id = field.scalar(2, "<B", 0)
    detail = field.table(3)
    if type_id == _TYPE_INT and detail is not None:
        bits, signed = detail.scalar(0, "<i", 0), detail.scalar(1, "<?", False)
        kind = f"{'int' if signed else 'uint'}{bits}"
    elif type_id == _TYPE_FLOAT and detail is not None:
        kind = _FLOAT_PRECISIONS.get(detail.scalar(0, "<h", 0), "float?")
    elif type_id == _TYPE_LIST:
        children = field.tables(5)
        kind = f"list<{_type_of(children[0]) if len(children) == 1 else '?'}>"
    else:
        kind = _TYPE_NAMES.get(type_id, f"type #{type_id}")
    if field.has(4):
        kind += " (dictionary)"
    if field.scalar(1, "<?", False):
        kind += " (nullable)"
    return kind


# One record batch before concatenation: (rows, per column an array, or (values, offsets from 0)
# for list and utf8 columns).
_Part = Tuple[int, List[Any]]


def _read_record_batch(buf: memoryview, offset: int, meta_length: int, body_length: int) -> _Part:
    where = f"record batch at byte {offset}"
    _check_range(buf, offset, meta_length + body_length, where)
    if meta_length < 8 or _unpack("<I", buf, offset, where) != CONTINUATION:
        raise UnsupportedBatchError(f"{where}: no continuation marker (legacy IPC framing)")
    flatbuffer_length = _unpack("<i", buf, offset + 4, where)
    if flatbuffer_length <= 0 or 8 + flatbuffer_length > meta_length:
        raise UnsupportedBatchError(f"corrupt {where}: metadata length {flatbuffer_length}")
    message = _root(buf[offset + 8 : offset + 8 + flatbuffer_length], f"{where} metadata")
    header_type = message.scalar(1, "<B", 0)
    if header_type != _HEADER_RECORD_BATCH:
        name = _HEADER_NAMES.get(header_type, f"header #{header_type}")
        raise UnsupportedBatchError(f"{where}: a {name} message where a record batch belongs")
    if message.scalar(3, "<q", 0) != body_length:
        raise UnsupportedBatchError(f"corrupt {where}: body length disagrees with the footer")
    header = message.table(2)
    if header is None:
        raise UnsupportedBatchError(f"corrupt {where}: no record batch header")
    if header.has(3):
        raise UnsupportedBatchError(f"{where}: compressed buffers (LZ4/ZSTD body compression)")
    rows = header.scalar(0, "<q", 0)
    if rows < 0:
        raise UnsupportedBatchError(f"corrupt {where}: {rows} rows")
    nodes = header.structs(1, "<qq")  # FieldNode {length: long, null_count: long}
    buffers = header.structs(2, "<qq")  # Buffer {offset: long, length: long}
    body = buf[offset + meta_length : offset + meta_length + body_length]
    reader = _BodyReader(body, nodes, buffers, where)
    columns = []
    for name, kind in EXPECTED_COLUMNS:
        length = reader.node(name, rows)
        if kind.startswith("list<"):
            offsets = reader.offsets(name, length)
            values_length = reader.node(f"{name}.item", None)
            if values_length < offsets[-1]:
                raise UnsupportedBatchError(f"corrupt {where}: '{name}' offsets pass its values")
            values = reader.values(name, _DTYPES[kind[5:-1]], values_length)
            columns.append((values[offsets[0] : offsets[-1]], offsets - offsets[0]))
        elif kind == "utf8":
            offsets = reader.offsets(name, length)
            data = reader.values(name, np.dtype("u1"), int(offsets[-1]))
            columns.append((data[offsets[0] :], offsets - offsets[0]))
        elif kind == "bool":
            bits = reader.values(name, np.dtype("u1"), (length + 7) // 8)
            columns.append(np.unpackbits(bits, count=length, bitorder="little").astype(bool))
        else:
            columns.append(reader.values(name, _DTYPES[kind], length))
    if not reader.done():
        raise UnsupportedBatchError(f"{where}: more nodes or buffers than the schema's columns")
    return rows, columns


class _BodyReader:
    """Walks a record batch's field nodes and buffers in schema order."""

    def __init__(self, body: memoryview, nodes: List[tuple], buffers: List[tuple], where: str):
        self.body, self.nodes, self.buffers, self.where = body, nodes, buffers, where
        self.next_node = self.next_buffer = 0

    def done(self) -> bool:
        return self.next_node == len(self.nodes) and self.next_buffer == len(self.buffers)

    def node(self, name: str, rows: Optional[int]) -> int:
        """The next field node's length (checked against `rows` when given); also passes over
        its validity bitmap, which is not read: the node must say it has no nulls."""
        if self.next_node == len(self.nodes):
            raise UnsupportedBatchError(f"corrupt {self.where}: no field node for '{name}'")
        length, null_count = self.nodes[self.next_node]
        self.next_node += 1
        if null_count != 0:
            raise UnsupportedBatchError(f"{self.where}: column '{name}' has {null_count} nulls")
        if rows is not None and length != rows:
            raise UnsupportedBatchError(
                f"corrupt {self.where}: column '{name}' has {length} rows of {rows}"
            )
        self._buffer(f"{name} validity")
        return length

    def _buffer(self, name: str) -> memoryview:
        if self.next_buffer == len(self.buffers):
            raise UnsupportedBatchError(f"corrupt {self.where}: a buffer of '{name}' is missing")
        offset, length = self.buffers[self.next_buffer]
        self.next_buffer += 1
        _check_range(self.body, offset, length, f"{self.where} body ('{name}')")
        return self.body[offset : offset + length]

    def values(self, name: str, dtype: np.dtype, count: int) -> np.ndarray:
        """The next buffer as `count` values of `dtype` (a view of the input bytes)."""
        buffer = self._buffer(name)
        if count * dtype.itemsize > len(buffer):
            raise UnsupportedBatchError(
                f"corrupt {self.where}: '{name}' needs {count * dtype.itemsize} bytes, "
                f"has {len(buffer)}"
            )
        return np.frombuffer(buffer, dtype=dtype, count=count)

    def offsets(self, name: str, length: int) -> np.ndarray:
        """The next buffer as the `length + 1` int32 offsets of a list or utf8 column, as int64."""
        if length == 0 and self.next_buffer < len(self.buffers):
            if self.buffers[self.next_buffer][1] == 0:  # an empty column may leave out its 0
                self._buffer(f"{name} offsets")
                return np.zeros(1, dtype=np.int64)
        offsets = self.values(f"{name} offsets", np.dtype("<i4"), length + 1).astype(np.int64)
        if offsets[0] < 0 or np.any(np.diff(offsets) < 0):
            raise UnsupportedBatchError(f"corrupt {self.where}: '{name}' offsets decrease")
        return offsets  # may start past 0 (a sliced array): the caller rebases


def _concat(kind: str, pieces: List[Any]) -> Column:
    """One column's pieces (one per record batch) as one column."""
    if kind in ("int32", "float32", "bool"):
        if len(pieces) == 1:
            return pieces[0]
        dtype = bool if kind == "bool" else _DTYPES[kind]
        return np.concatenate(pieces) if pieces else np.zeros(0, dtype=dtype)
    if kind == "utf8":
        strings: List[str] = []
        for data, offsets in pieces:
            raw = data.tobytes()
            bounds = offsets.tolist()
            try:
                strings.extend(raw[bounds[i] : bounds[i + 1]].decode("utf-8")
                               for i in range(len(bounds) - 1))
            except UnicodeDecodeError as error:
                raise UnsupportedBatchError(f"a string that is not UTF-8 ({error})") from None
        return strings
    # List pieces have offsets from 0 and values holding exactly their rows' elements.
    if len(pieces) == 1:
        return ListColumn(*pieces[0])
    if not pieces:
        return ListColumn(np.zeros(0, dtype=_DTYPES[kind[5:-1]]), np.zeros(1, dtype=np.int64))
    offsets = [np.zeros(1, dtype=np.int64)]
    start = 0
    for values, piece_offsets in pieces:
        offsets.append(piece_offsets[1:] + start)
        start += len(values)
    return ListColumn(np.concatenate([values for values, _ in pieces]), np.concatenate(offsets))


def _sequence(metadata: Dict[str, str]) -> Optional[int]:
    text = metadata.get(SEQUENCE_KEY)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise UnsupportedBatchError(f"schema metadata {SEQUENCE_KEY} is not an integer: "
                                    f"{text[:80]!r}") from None


def _sampling(metadata: Dict[str, str]) -> Optional[Dict[str, Any]]:
    text = metadata.get(SAMPLING_KEY)
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise UnsupportedBatchError(f"schema metadata {SAMPLING_KEY} is not a JSON object: "
                                    f"{text[:80]}")
    return value
