"""The reference trainer's loop. For each batch it pulls:

1. skips training when the batch is one it already trained on (redelivered after a crash
   between its checkpoint and its ack) and only acks it;
2. recomputes each trained token's logprob under the weights of the version that sampled it
   (the row's `versions`; version 0 is the starting model, version v the weights it pushed as
   v), takes one clipped policy-gradient step with the rows' advantages (`loss.py`);
3. writes a checkpoint (weights, optimizer, progress with the batch id), then acks with the
   step's metrics (loss, KL to the sampler, clip fraction, grad norm, logprob mismatch, ...);
4. every `sync_every` steps exports its weights (the model's own format) under `weights_dir`
   and drives the policy update: begin(v), load_weights_path(v, dir), commit(v).

On start it resumes from the newest checkpoint: the same weights, optimizer and progress.

    trainer = ReferenceTrainer(TrainerConfig(address=..., model="tiny:ckpt/0", out=..., weights_dir=...))
    trainer.run()
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import grpc
import numpy as np
import torch

from ..client import Batch, BridgeClient, BridgeError
from .checkpoints import Checkpoints, _write_json
from .loss import LossConfig, policy_loss
from .models import PolicyModel, load_model

RECENT_BATCHES = 256  # batch ids kept to recognise a redelivery after a crash


@dataclass
class TrainerConfig:
    address: str
    model: str
    out: str
    weights_dir: str
    token: Optional[str] = None
    lr: float = 1e-3
    max_grad_norm: float = 1.0
    sync_every: int = 1
    max_steps: Optional[int] = None
    pause_mode: str = "keep"
    credits: int = 1
    seed: int = 0
    rank: int = 0
    world_size: int = 1
    connect_timeout_s: float = 120.0
    loss: LossConfig = field(default_factory=LossConfig)


class ReferenceTrainer:
    def __init__(self, config: TrainerConfig, client: Optional[BridgeClient] = None):
        self.config = config
        random.seed(config.seed)
        torch.manual_seed(config.seed)
        self.client = client or BridgeClient(config.address, token=config.token)
        self.model: PolicyModel = load_model(config.model)
        self.scratch: PolicyModel = load_model(config.model)  # old-version logprobs
        self.scratch.module.eval()
        self.reference: Optional[PolicyModel] = None
        if config.loss.kl_coef:
            self.reference = load_model(config.model)
            self.reference.module.eval()
        self.optimizer = torch.optim.Adam(self.model.module.parameters(), lr=config.lr)
        self.checkpoints = Checkpoints(config.out)
        self.step = 0
        self.version = 0
        self.trained: List[str] = []
        self.version_dirs: Dict[int, str] = {0: config.model.partition(":")[2]}
        self._states: Dict[int, Dict[str, torch.Tensor]] = {}
        self.log_path = os.path.join(config.out, "steps.jsonl")
        os.makedirs(config.out, exist_ok=True)
        self._restore()

    # ---- state ----
    def _restore(self) -> None:
        latest = self.checkpoints.latest()
        if latest is None:
            return
        progress = latest["progress"]
        self.model.load(os.path.join(latest["path"], "model"))
        self.optimizer.load_state_dict(torch.load(os.path.join(latest["path"], "optimizer.pt")))
        self.step = int(progress["step"])
        self.version = int(progress["version"])
        self.trained = list(progress["trained"])
        self.version_dirs.update({int(k): v for k, v in progress["version_dirs"].items()})
        self._log({"event": "restored", "step": self.step, "checkpoint": latest["path"],
                   "weights_sha256": self.weights_digest(),
                   "saved_sha256": progress.get("weights_sha256")})

    def _progress(self) -> Dict[str, Any]:
        return {"version": self.version, "trained": self.trained[-RECENT_BATCHES:],
                "version_dirs": {str(k): v for k, v in self.version_dirs.items()},
                "weights_sha256": self.weights_digest()}

    def weights_digest(self) -> str:
        """SHA-256 of the weights' bytes in state-dict order: equal weights, equal digest."""
        digest = hashlib.sha256()
        for name, tensor in self.model.module.state_dict().items():
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()

    def _weights_of(self, version: int) -> Dict[str, torch.Tensor]:
        if version not in self._states:
            directory = self.version_dirs.get(version)
            if directory is None:  # pushed after the last checkpoint, before a crash
                candidate = os.path.join(self.config.weights_dir, f"v{version}")
                if not os.path.isdir(candidate):
                    raise RuntimeError(
                        f"no weights for policy version {version} (looked in {candidate}): "
                        "give the --weights-dir the versions were pushed from")
                directory = self.version_dirs[version] = os.path.abspath(candidate)
            self.scratch.load(directory)
            self._states[version] = {k: v.clone() for k, v in self.scratch.module.state_dict().items()}
            for old in sorted(self._states)[:-4]:
                del self._states[old]
        return self._states[version]

    # ---- one step ----
    def _tensors(self, batch: Batch) -> Dict[str, torch.Tensor]:
        arrays = batch.arrays(pad_token_id=self.model.pad_token_id)
        rollout_ids = list(batch.decoded()["rollout_id"])
        order = {rollout: index for index, rollout in enumerate(dict.fromkeys(rollout_ids))}
        tensors = {name: torch.from_numpy(np.ascontiguousarray(value)) for name, value in arrays.items()}
        tensors["rollout_index"] = torch.tensor([order[r] for r in rollout_ids], dtype=torch.long)
        return tensors

    def _old_logprobs(self, ids: torch.Tensor, attention: torch.Tensor, versions: torch.Tensor,
                      mask: torch.Tensor) -> torch.Tensor:
        old = torch.zeros(ids.shape[0], ids.shape[1] - 1)
        with torch.no_grad():
            for version in sorted({int(v) for v in versions[mask > 0].tolist()}):
                self.scratch.module.load_state_dict(self._weights_of(version))
                logprobs, _ = self.scratch.token_logprobs(ids, attention)
                old = torch.where(versions == version, logprobs.float().cpu(), old)
        return old

    def train_on(self, batch: Batch) -> Dict[str, float]:
        t = self._tensors(batch)
        ids, attention = t["input_ids"].long(), t["attention_mask"].long()
        mask = t["loss_mask"][:, 1:].float()
        versions = t["versions"][:, 1:]
        rollout_lp = t["old_logprobs"][:, 1:].float()
        old = self._old_logprobs(ids, attention, versions, mask)
        self.model.module.train()
        new, entropy = self.model.token_logprobs(ids, attention)
        reference = None
        if self.reference is not None:
            with torch.no_grad():
                reference, _ = self.reference.token_logprobs(ids, attention)
        loss, metrics = policy_loss(new.float().cpu(), old, rollout_lp, t["advantages"], mask,
                                    t["rollout_index"], self.config.loss, reference, entropy.detach())
        self.optimizer.zero_grad()
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.module.parameters(), self.config.max_grad_norm)
        self.optimizer.step()
        trained = versions[mask > 0]
        metrics.update({
            "grad_norm": float(grad_norm),
            "rows": float(ids.shape[0]),
            "reward_mean": float(t["rewards"].mean()) if t["rewards"].numel() else 0.0,
            "staleness_max": float(self.version - int(trained.min())) if trained.numel() else 0.0,
        })
        return metrics

    # ---- policy update ----
    def push_weights(self) -> int:
        version = self.client.status().committed_version + 1
        directory = os.path.abspath(os.path.join(self.config.weights_dir, f"v{version}"))
        self.model.save(directory)
        self.version_dirs[version] = directory
        self._states[version] = {k: v.detach().clone() for k, v in self.model.module.state_dict().items()}
        self.client.begin_policy_update(version, self.config.pause_mode)
        try:
            self.client.load_weights_path(version, directory)
        except Exception:
            self.client.abort_policy_update(version, "the replicas could not load the weights")
            raise
        self.client.commit_policy_update(version)
        self.version = version
        return version

    # ---- the loop ----
    def _wait_for_farm(self) -> None:
        """A trainer may start before the farm: wait for its bridge to answer."""
        deadline = time.monotonic() + self.config.connect_timeout_s
        while True:
            try:
                self.client.status()
                return
            except BridgeError as error:
                if error.code != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def _push(self) -> None:
        started = time.monotonic()
        version = self.push_weights()
        _write_json(self._pushed_path, {"step": self.step, "version": version})
        self._log({"event": "update", "step": self.step, "version": version,
                   "update_s": time.monotonic() - started})

    @property
    def _pushed_path(self) -> str:
        return os.path.join(self.config.out, "pushed.json")

    def _push_if_missed(self) -> None:
        """A kill between an ack and its push leaves the farm serving older weights than the
        checkpoint's (and, at staleness 0, waiting for the update): push them now."""
        if self.step == 0 or self.step % self.config.sync_every != 0:
            return
        pushed = {"step": 0}
        if os.path.exists(self._pushed_path):
            with open(self._pushed_path) as handle:
                pushed = json.load(handle)
        if pushed["step"] < self.step:
            self._push()

    def run(self) -> int:
        """Trains until `max_steps` or until the farm finishes its run; returns the steps taken.
        Everything acked was checkpointed first. A farm that goes away without finishing (a
        crash, a kill -9) is waited for (`connect_timeout_s`): a resumed farm redelivers what was
        not acked and the trainer carries on."""
        self._wait_for_farm()
        self._push_if_missed()
        while True:
            ended = self._pull()
            if ended != "lost":
                return self.step
            try:
                self._wait_for_farm()
            except BridgeError as error:
                self._log({"event": "farm_gone", "detail": str(error)})
                return self.step
            self._log({"event": "farm_back"})
            self._push_if_missed()

    def _pull(self) -> str:
        """One Pull stream, trained on to its end: "finished" (the farm ended its run, or
        `max_steps`), or "lost" (the farm went away mid-run)."""
        stream = self.client.pull(rank=self.config.rank, world_size=self.config.world_size,
                                  credits=self.config.credits)
        ended = "finished"
        idle_since = time.monotonic()
        try:
            for batch in stream:
                waited = time.monotonic() - idle_since
                if batch.batch_id in self.trained:
                    batch.ack()  # trained and checkpointed before a crash; the ack was lost
                    self._log({"event": "redelivered", "batch_id": batch.batch_id})
                    continue
                started = time.monotonic()
                metrics = self.train_on(batch)
                self.step += 1
                self.trained.append(batch.batch_id)
                metrics["step_s"] = time.monotonic() - started
                metrics["wait_s"] = waited  # for the batch: the trainer had nothing to do
                # Durable before the ack: a kill -9 after it never trains this batch again.
                self.checkpoints.save(self.step, self.model, self.optimizer, self._progress())
                batch.ack(metrics)
                self._log({"event": "step", "step": self.step, "batch_id": batch.batch_id, **metrics})
                if self.step % self.config.sync_every == 0:
                    try:
                        self._push()
                    except BridgeError as error:
                        if error.code != grpc.StatusCode.UNAVAILABLE:
                            raise
                        # The farm is gone or going: its stream says which; the update is
                        # pushed again once it is back (`_push_if_missed`).
                        self._log({"event": "update_failed", "detail": str(error)})
                idle_since = time.monotonic()
                if self.config.max_steps is not None and self.step >= self.config.max_steps:
                    break
        except BridgeError as error:
            ended = self._ending(error)
        finally:
            try:
                stream.close()
            except BridgeError as error:
                ended = self._ending(error) if ended == "finished" else ended
        return ended

    def _ending(self, error: "BridgeError") -> str:
        """How a stream that failed ended: the farm finished its run, or went away; anything
        else is the trainer's to report."""
        if error.code != grpc.StatusCode.UNAVAILABLE:
            # A stream torn down as the farm exits can end with another code: a farm that no
            # longer answers has finished; one that answers makes this a real error.
            try:
                self.client.status()
            except BridgeError as probe:
                if probe.code == grpc.StatusCode.UNAVAILABLE:
                    self._log({"event": "farm_finished", "detail": str(error)})
                    return "finished"
            raise error
        if "shutting down" in str(error):
            self._log({"event": "farm_finished", "detail": str(error)})
            return "finished"
        self._log({"event": "farm_lost", "detail": str(error)})
        return "lost"

    def _log(self, entry: Dict[str, Any]) -> None:
        with open(self.log_path, "a") as handle:
            handle.write(json.dumps(entry) + "\n")
