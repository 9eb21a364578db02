"""sandfarm's reference trainer: pulls batches from a farm's bridge, takes clipped
policy-gradient steps with the rows' advantages (importance ratio against the logprobs of the
version that sampled each token, truncated importance sampling for the sampler-trainer mismatch),
checkpoints before it acks, and pushes its weights to the farm's replicas through the
policy-update protocol. The model is behind one small interface (`models.PolicyModel`): the tiny
demonstration policy, or any Hugging Face causal LM.

    /usr/bin/python3 -m sandfarm_bridge.trainer --address 127.0.0.1:50051 \\
        --model tiny:ckpt/0 --out runs/trainer --weights-dir runs/weights
"""
