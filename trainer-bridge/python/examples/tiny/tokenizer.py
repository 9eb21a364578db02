"""The tiny policy's tokenizer: special tokens, whole pieces of text (pieces.json: the prompts
and tool calls of the task family it learns, see scripts/tiny-pieces.ts) and 256 byte-fallback
tokens, so any text encodes. Encoding is greedy longest match over the pieces, else the bytes of
one character; decoding joins pieces and bytes. Deterministic: the server, /tokenize and the
trainer all tokenize the same way.

    tok = TinyTokenizer.load()
    ids = tok.encode("<|im_start|>user\\nhi<|im_end|>\\n")
    tok.decode(ids)
"""

from __future__ import annotations

import json
import os
from typing import Dict, List, Optional, Sequence

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>"]
PAD, IM_START, IM_END = "<|endoftext|>", "<|im_start|>", "<|im_end|>"
HERE = os.path.dirname(os.path.abspath(__file__))
PIECES_FILE = os.path.join(HERE, "pieces.json")


class TinyTokenizer:
    def __init__(self, pieces: Sequence[str]):
        seen: Dict[str, int] = {}
        self.pieces: List[str] = []
        for text in list(SPECIALS) + list(pieces):
            if text and text not in seen:
                seen[text] = len(self.pieces)
                self.pieces.append(text)
        self.piece_ids = seen
        self.byte_base = len(self.pieces)
        self.vocab_size = self.byte_base + 256
        self.pad_id = seen[PAD]
        self.im_end_id = seen[IM_END]
        # First character -> pieces starting with it, longest first (greedy longest match).
        self._by_first: Dict[str, List[str]] = {}
        for text in self.pieces:
            self._by_first.setdefault(text[0], []).append(text)
        for options in self._by_first.values():
            options.sort(key=len, reverse=True)

    @classmethod
    def load(cls, path: Optional[str] = None, extra: Sequence[str] = ()) -> "TinyTokenizer":
        """The tokenizer of pieces.json, with the tools block its template renders as a piece."""
        from .template import MARKUP, tools_block  # the template's text is part of the vocabulary

        with open(path or PIECES_FILE, encoding="utf-8") as handle:
            spec = json.load(handle)
        return cls(MARKUP + list(spec["texts"]) + [tools_block(spec["tools"])] + list(extra))

    def encode(self, text: str) -> List[int]:
        ids: List[int] = []
        position = 0
        while position < len(text):
            for piece in self._by_first.get(text[position], ()):
                if text.startswith(piece, position):
                    ids.append(self.piece_ids[piece])
                    position += len(piece)
                    break
            else:
                ids.extend(self.byte_base + byte for byte in text[position].encode("utf-8"))
                position += 1
        return ids

    def token_bytes(self, token_id: int) -> bytes:
        if token_id >= self.byte_base:
            return bytes([token_id - self.byte_base])
        return self.pieces[token_id].encode("utf-8")

    def decode(self, ids: Sequence[int], skip_special: bool = False) -> str:
        specials = {self.piece_ids[text] for text in SPECIALS} if skip_special else set()
        data = b"".join(self.token_bytes(i) for i in ids if i not in specials)
        return data.decode("utf-8", errors="replace")

    def token_text(self, token_id: int) -> str:
        return self.token_bytes(token_id).decode("utf-8", errors="replace")
