"""The reference trainer's checkpoints: the weights (in the model's own format), the optimizer's
state and the trainer's progress (step, committed policy version, the batches it trained on),
written before the batch is acked. A checkpoint is a directory `step-NNNNNNNN` under `out/`,
complete before `LATEST` names it (written to a temporary name, fsynced, renamed), so a kill -9
at any point leaves the previous one or the new one, never half of one.

    checkpoints = Checkpoints("runs/trainer")
    checkpoints.save(step=3, model=policy, optimizer=optimizer, progress={...})
    restored = checkpoints.latest()      # None on a fresh start
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any, Dict, Optional

import torch

KEEP = 2


def _fsync_dir(path: str) -> None:
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _write_json(path: str, value: Any) -> None:
    temporary = f"{path}.tmp"
    with open(temporary, "w") as handle:
        json.dump(value, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


class Checkpoints:
    def __init__(self, out: str):
        self.out = out
        os.makedirs(out, exist_ok=True)

    def save(self, step: int, model, optimizer: torch.optim.Optimizer,
             progress: Dict[str, Any]) -> str:
        name = f"step-{step:08d}"
        final = os.path.join(self.out, name)
        staging = os.path.join(self.out, f".{name}.partial")
        shutil.rmtree(staging, ignore_errors=True)
        os.makedirs(os.path.join(staging, "model"))
        model.save(os.path.join(staging, "model"))
        torch.save(optimizer.state_dict(), os.path.join(staging, "optimizer.pt"))
        _write_json(os.path.join(staging, "progress.json"), dict(progress, step=step))
        for root, _, files in os.walk(staging):
            for file in files:
                with open(os.path.join(root, file), "rb") as handle:
                    os.fsync(handle.fileno())
        shutil.rmtree(final, ignore_errors=True)
        os.replace(staging, final)
        _fsync_dir(self.out)
        _write_json(os.path.join(self.out, "LATEST"), {"checkpoint": name})
        _fsync_dir(self.out)
        self._prune(keep=name)
        return final

    def latest(self) -> Optional[Dict[str, Any]]:
        """{"path", "progress"} of the newest complete checkpoint, or None."""
        pointer = os.path.join(self.out, "LATEST")
        if not os.path.exists(pointer):
            return None
        with open(pointer) as handle:
            name = json.load(handle)["checkpoint"]
        path = os.path.join(self.out, name)
        with open(os.path.join(path, "progress.json")) as handle:
            return {"path": path, "progress": json.load(handle)}

    def _prune(self, keep: str) -> None:
        steps = sorted(entry for entry in os.listdir(self.out) if entry.startswith("step-"))
        for entry in steps[:-KEEP]:
            if entry != keep:
                shutil.rmtree(os.path.join(self.out, entry), ignore_errors=True)
