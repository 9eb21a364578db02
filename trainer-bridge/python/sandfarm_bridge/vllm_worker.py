"""A vLLM worker extension that reloads a model's weights from a directory, the call sandfarm's
policy updates send (`/collective_rpc` with `{"method": "reload_weights", "kwargs":
{"weights_path": DIR}}`, what `LoadPolicyWeights(weights_path=DIR)` becomes). Stock vLLM's
`/collective_rpc` only calls methods its workers have, so start vLLM with this class mixed in:

    VLLM_SERVER_DEV_MODE=1 vllm serve Qwen/Qwen3-4B \\
        --worker-extension-cls sandfarm_bridge.vllm_worker.WeightsFromPath \\
        --enable-auto-tool-choice --tool-call-parser hermes

(`sandfarm_bridge` must be importable by vLLM's Python: `pip install ./trainer-bridge/python`.)
DIR holds the trainer's `save_pretrained` output (`*.safetensors`, same architecture and names
as the served model). Not exercised on sandfarm's CI machine, which has no vLLM; the tiny
policy's server implements the same call.
"""

from __future__ import annotations

import glob
import os


class WeightsFromPath:
    """Mixed into each vLLM worker (`self.model_runner` is the worker's)."""

    def reload_weights(self, weights_path: str) -> int:
        from safetensors.torch import load_file  # a vLLM dependency

        files = sorted(glob.glob(os.path.join(weights_path, "*.safetensors")))
        if not files:
            raise FileNotFoundError(f"reload_weights: no *.safetensors in {weights_path}")
        model = self.model_runner.model  # type: ignore[attr-defined]
        loaded = 0
        for file in files:
            state = load_file(file, device="cpu")
            model.load_weights(weights=state.items())
            loaded += len(state)
        return loaded
