"""`python3 -m sandfarm_bridge.trainer`: the reference trainer against a farm's bridge."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import List, Optional

import torch

from ..blas import single_blas_thread
from .loop import ReferenceTrainer, TrainerConfig
from .loss import AGGREGATIONS, LossConfig


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m sandfarm_bridge.trainer",
                                     description="sandfarm's reference trainer")
    parser.add_argument("--address", required=True, help="the farm's bridge, host:port")
    parser.add_argument("--model", required=True, help="tiny:DIR, hf:DIR or hf+lora:DIR")
    parser.add_argument("--out", required=True, help="checkpoints and steps.jsonl")
    parser.add_argument("--weights-dir", required=True,
                        help="where pushed versions go (a path the replicas can read)")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--max-grad-norm", type=float, default=1.0)
    parser.add_argument("--sync-every", type=int, default=1, help="push weights every N steps")
    parser.add_argument("--max-steps", type=int)
    parser.add_argument("--pause-mode", choices=["keep", "wait", "abort"], default="keep")
    parser.add_argument("--clip-low", type=float, default=0.2)
    parser.add_argument("--clip-high", type=float, default=0.28)
    parser.add_argument("--tis-cap", type=float, default=2.0)
    parser.add_argument("--aggregation", choices=AGGREGATIONS, default="token-mean")
    parser.add_argument("--kl-coef", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.model.startswith("tiny:"):
        # A model this small gains nothing from a second thread, and the farm's sandboxes and
        # the policy server share the machine (see ..blas).
        torch.set_num_threads(1)
        single_blas_thread()
    config = TrainerConfig(
        address=args.address, model=args.model, out=args.out, weights_dir=args.weights_dir,
        token=os.environ.get("SANDFARM_BRIDGE_TOKEN"), lr=args.lr,
        max_grad_norm=args.max_grad_norm, sync_every=args.sync_every, max_steps=args.max_steps,
        pause_mode=args.pause_mode, seed=args.seed,
        loss=LossConfig(clip_low=args.clip_low, clip_high=args.clip_high, tis_cap=args.tis_cap,
                        aggregation=args.aggregation, kl_coef=args.kl_coef),
    )
    trainer = ReferenceTrainer(config)
    print(json.dumps({"event": "started", "step": trainer.step, "version": trainer.version}), flush=True)
    steps = trainer.run()
    print(json.dumps({"event": "finished", "steps": steps}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
