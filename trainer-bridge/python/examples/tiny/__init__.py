"""A tiny real policy for sandfarm's closed loop: a small causal transformer in PyTorch, its
tokenizer and chat template, and a server that speaks vLLM's wire format (server.py)."""
