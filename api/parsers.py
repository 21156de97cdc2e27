"""The API's JSON parser: DRF's, with the nesting depth bounded.

json.loads recurses once per nesting level: a body of 100,000 '[' raises RecursionError (not the
ValueError DRF turns into 400), and a body nested a few hundred levels parses but overflows the stack
later (serializers, the idempotency fingerprint). No field of the API nests more than a few levels.
"""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


def _too_deep(value: object) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON nested more than {MAX_DEPTH} levels deep.") from None
        if _too_deep(data):
            raise ParseError(f"JSON nested more than {MAX_DEPTH} levels deep.")
        return data
