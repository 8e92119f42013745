"""`loads`: `json.loads`, the same values and the same errors, without the layers of
Python that `json.loads` goes through before its C scanner (they cost about as much as
decoding a small stream event)."""

from __future__ import annotations

import json
from collections.abc import Callable
from json.scanner import make_scanner
from typing import Any

__all__ = ["loads"]

# The scanner `json.loads` itself ends in, made from a decoder with the same (default)
# settings: the C one where the interpreter has it.
# (typeshed names the scanner class as make_scanner's argument; it takes a decoder.)
_scan: Callable[[str, int], tuple[Any, int]] = make_scanner(
    json.JSONDecoder())  # type: ignore[arg-type]
_SPACE = " \t\n\r"  # what JSON lets stand around a value


def loads(text: str | bytes) -> Any:
    """`json.loads(text)`: a value that fills `text` (whitespace after it allowed) is
    read by the scanner at once; anything else (leading whitespace, extra data,
    invalid JSON) goes through `json.loads`, which decodes or raises as it always
    does. Bytes that open an object or an array are UTF-8 (as `json.loads` finds:
    no byte order mark or UTF-16/32 layout starts so) and decoded as it decodes them."""
    if type(text) is not str:
        if type(text) is bytes and text[:1] in (b"{", b"[") and text[1:2] != b"\0":
            text = text.decode("utf-8", "surrogatepass")
        else:
            return json.loads(text)
    try:
        value, end = _scan(text, 0)
    except (StopIteration, ValueError):
        return json.loads(text)
    if end != len(text) and text[end:].strip(_SPACE):
        return json.loads(text)
    return value
