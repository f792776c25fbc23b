"""A nesting limit on JSON request bodies, checked on the raw bytes before anything decodes them.

A body of about a thousand nested arrays fits in 2 KB and used to end in a ``RecursionError``
(500) while decoding and validating. No request of this API nests deeper than a handful of
levels, so a deeper body is refused as malformed, once, for every JSON endpoint.
"""

from __future__ import annotations

import re

from litestar.exceptions import HTTPException

MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays and objects accepted in a request body (ours need under 6)."""

# A string (whose brackets do not count) or a bracket.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def nesting_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when arrays and objects in ``body`` nest deeper than ``limit``."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # cannot nest deeper than it has openings: the common case costs two counts
    depth = 0
    for token in _TOKENS.finditer(body):
        bracket = token.group()
        if bracket in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif bracket in (b"]", b"}"):
            depth -= 1
    return False


def refuse_deep_json(body: bytes) -> None:
    """Raise the framework's 400 (answered as a validation error) when ``body`` nests too deeply."""
    if nesting_depth_exceeds(body):
        raise HTTPException(
            status_code=400, detail=f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels."
        )
