"""Read an offline wandb run (``run-<id>.wandb``) without syncing it: its config and its last metrics.

The file is wandb's transaction log: a 7-byte header (``:W&B``, magic, version), then LevelDB-log
records in 32 KiB blocks (4-byte checksum, verified: CRC-32 of the type byte and the data; 2-byte length;
1-byte type; a record split over blocks comes as FIRST, MIDDLE…, LAST), each one a
``wandb_internal_pb2.Record`` protobuf. Recent wandb
versions no longer ship a Python reader, so this is the small one a sweep summary needs.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BLOCK = 32 * 1024
HEADER = 7  # checksum (4) + length (2) + type (1)
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def _records(path: Path) -> Iterator[bytes]:
    """The payload of every complete record in a ``.wandb`` file; a truncated tail is ignored."""
    data = path.read_bytes()
    if data[:4] != b":W&B":
        raise ValueError(f"{path} is not a wandb run file (no ':W&B' header)")
    pos, pending = 7, b""
    while pos + HEADER <= len(data):
        left = BLOCK - pos % BLOCK
        if left < HEADER:  # the block's tail is padding
            pos += left
            continue
        checksum, length, kind = struct.unpack_from("<IHB", data, pos)
        payload = data[pos + HEADER : pos + HEADER + length]
        if kind == 0 or len(payload) < length:  # zero padding or an unfinished write
            break
        if zlib.crc32(payload, zlib.crc32(bytes([kind]))) & 0xFFFFFFFF != checksum:  # wandb's CRC-32 of type + data
            raise ValueError(f"{path}: the record at byte {pos} fails its checksum (a corrupt file)")
        pos += HEADER + length
        if kind == FULL:
            yield payload
        elif kind == FIRST:
            pending = payload
        elif kind == MIDDLE:
            pending += payload
        elif kind == LAST:
            yield pending + payload
            pending = b""


def _items(items: Any) -> dict[str, Any]:
    """``{key: value}`` of protobuf config / history / summary items (JSON-encoded values)."""
    out = {}
    for item in items:
        key = item.key or "/".join(item.nested_key)
        out[key] = json.loads(item.value_json) if item.value_json else None
    return out


def read_offline_run(path: str | Path) -> dict[str, Any]:
    """``{"config", "summary", "finished"}`` of an offline run file or of its ``offline-run-*`` folder.

    The summary is each metric's last logged value, overridden by explicit summary updates, as the
    wandb UI shows it (wandb's own ``_``-prefixed entries left out). Config values are unwrapped from
    wandb's ``{"value": ...}`` form. ``finished`` says whether the run ended (an exit record).
    """
    from google.protobuf.message import DecodeError
    from wandb.proto import wandb_internal_pb2

    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("run-*.wandb"))
        if not files:
            raise FileNotFoundError(f"no run-*.wandb file in {path}")
        path = files[0]
    config: dict[str, Any] = {}
    summary: dict[str, Any] = {}
    finished = False
    for index, payload in enumerate(_records(path)):
        record = wandb_internal_pb2.Record()
        try:
            record.ParseFromString(payload)
        except DecodeError as err:
            raise ValueError(f"{path}: record {index} is not a wandb record ({err}); the file is corrupt") from None
        kind = record.WhichOneof("record_type")
        if kind == "run":
            config.update(_items(record.run.config.update))
        elif kind == "config":
            config.update(_items(record.config.update))
        elif kind == "history":
            summary.update(_items(record.history.item))
        elif kind == "summary":
            summary.update(_items(record.summary.update))
        finished = finished or kind == "exit"
    config = {k: v.get("value") if isinstance(v, dict) and "value" in v else v for k, v in config.items()}
    return {
        "config": {k: v for k, v in config.items() if not k.startswith("_")},
        "summary": {k: v for k, v in summary.items() if not k.startswith("_")},
        "finished": finished,
    }
