"""The tiny policy's chat template (hermes style, as Qwen's) and its tool-call parser.

    <|im_start|>system\\n{system}[\\n\\n# Tools\\n<tools>...</tools>]<|im_end|>\\n
    <|im_start|>user\\n{content}<|im_end|>\\n
    <|im_start|>assistant\\n{content}<tool_call>\\n{"name": N, "arguments": A}\\n</tool_call><|im_end|>\\n
    <|im_start|>user\\n<tool_response>\\n{tool result}\\n</tool_response><|im_end|>\\n
    <|im_start|>assistant\\n                      (the generation prompt)

An assistant message re-renders to exactly the text that was sampled for it: content, then each
tool call with its `arguments` string verbatim (the parser returns `json.dumps` of the parsed
arguments, which is how the calls are written), then <|im_end|>.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

TOOL_CALL = re.compile(r"<tool_call>\n(.*?)\n</tool_call>", re.S)

# The template's own text, one token each: role headers and the tool-response wrapper.
MARKUP = ["system\n", "user\n", "assistant\n", "tool\n", "<tool_response>\n",
          "\n</tool_response>"]


def tools_block(tools: Sequence[Any]) -> str:
    lines = "\n".join(json.dumps(tool, ensure_ascii=False) for tool in tools)
    return f"\n\n# Tools\n<tools>\n{lines}\n</tools>"


def _content(message: Dict[str, Any]) -> str:
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, list):  # OpenAI content parts: text parts only
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def render(messages: Sequence[Dict[str, Any]], tools: Optional[Sequence[Any]],
           add_generation_prompt: bool) -> str:
    out: List[str] = []
    rest = list(messages)
    system = ""
    if rest and rest[0].get("role") == "system":
        system = _content(rest.pop(0))
    if system or tools:
        out.append(f"<|im_start|>system\n{system}{tools_block(tools) if tools else ''}<|im_end|>\n")
    for message in rest:
        role = message.get("role")
        if role == "assistant":
            calls = "".join(
                "<tool_call>\n{\"name\": \"%s\", \"arguments\": %s}\n</tool_call>"
                % (call["function"]["name"], _arguments(call["function"].get("arguments")))
                for call in message.get("tool_calls") or []
            )
            out.append(f"<|im_start|>assistant\n{_content(message)}{calls}<|im_end|>\n")
        elif role == "tool":
            out.append(
                f"<|im_start|>user\n<tool_response>\n{_content(message)}\n</tool_response><|im_end|>\n"
            )
        else:
            out.append(f"<|im_start|>{role}\n{_content(message)}<|im_end|>\n")
    if add_generation_prompt:
        out.append("<|im_start|>assistant\n")
    return "".join(out)


def _arguments(arguments: Any) -> str:
    if arguments is None:
        return "{}"
    return arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)


def parse_completion(text: str, tools_offered: bool) -> Tuple[Optional[str], List[Dict[str, str]]]:
    """(content, tool calls) of a sampled assistant turn, as vLLM's hermes parser returns them:
    content is the text before the first <tool_call> (None when empty); a block that is not
    valid JSON with a name leaves the whole text as content."""
    if not tools_offered or "<tool_call>" not in text:
        return (text or None), []
    calls: List[Dict[str, str]] = []
    for match in TOOL_CALL.finditer(text):
        try:
            parsed = json.loads(match.group(1))
            name = parsed["name"]
            arguments = parsed.get("arguments", {})
        except (ValueError, KeyError, TypeError):
            return (text or None), []
        if not isinstance(name, str):
            return (text or None), []
        calls.append({"name": name, "arguments": json.dumps(arguments, ensure_ascii=False)})
    if not calls:
        return (text or None), []
    content = text[: text.index("<tool_call>")]
    return (content or None), calls
