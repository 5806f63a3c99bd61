"""REDCap branching logic: parse once, evaluate against a record's values.

REDCap shows a field only while its "Branching Logic (Show field only if...)" holds. The
subset read here is what data dictionaries mostly hold: ``[field]`` and ``[field(code)]``
(a checkbox choice, ``'1'`` when checked), quoted strings and numbers, ``=``, ``<>``, ``!=``,
``<``, ``<=``, ``>``, ``>=``, ``and``, ``or`` and parentheses. Anything else (event-prefixed
``[event][field]``, functions such as ``datediff()``, smart variables) is
:class:`Unsupported`: the profile says so once and does not use that field's logic.

A comparison follows REDCap: two numbers compare as numbers, anything else as text; an
empty field is ``''``.

>>> shows = parse("[seizures] = '1' and [onset_age] >= 2")
>>> shows({"seizures": "1", "onset_age": "3"}.get), shows({"seizures": "0"}.get)
(True, False)
>>> parse("[features(2)] = '1' or [other] <> ''")({"features___2": "0", "other": "x"}.get)
True
>>> parse("[event_1_arm_1][age] > 3")
Traceback (most recent call last):
...
harmonize.mapping.profiles.redcap_logic.Unsupported: event-prefixed field [event_1_arm_1][age]
"""

from __future__ import annotations

import re
from collections.abc import Callable

Lookup = Callable[[str], str | None]
Logic = Callable[[Lookup], bool]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<field>\[[A-Za-z0-9_]+(?:\([A-Za-z0-9_.-]+\))?\](?:\[[A-Za-z0-9_]+\])?)
    | (?P<string>'[^']*'|"[^"]*")
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<op><>|!=|<=|>=|=|<|>)
    | (?P<word>and\b|or\b|AND\b|OR\b|And\b|Or\b)
    | (?P<paren>[()])
    )""",
    re.VERBOSE,
)
_CHECKBOX = re.compile(r"^([A-Za-z0-9_]+)\(([A-Za-z0-9_.-]+)\)$")


class Unsupported(ValueError):
    """Branching logic outside the subset Harmonize evaluates."""


def checkbox_column(field: str, code: str) -> str:
    """The export column of a checkbox choice: ``features(2)`` -> ``features___2``."""
    return f"{field}___{code.lower().replace('-', '_').replace('.', '_')}"


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos, text = [], 0, text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise Unsupported(f"cannot read {text[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _compare(op: str, left: str, right: str) -> bool:
    a, b = _number(left), _number(right)
    if a is None or b is None or left.strip() == "" or right.strip() == "":
        x: float | str = left
        y: float | str = right
    else:
        x, y = a, b
    if op == "=":
        return x == y
    if op in ("<>", "!="):
        return x != y
    if isinstance(x, str) != isinstance(y, str):
        return False
    return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]  # type: ignore[operator]


def _either(a: Logic, b: Logic) -> Logic:
    return lambda get: a(get) or b(get)


def _both(a: Logic, b: Logic) -> Logic:
    return lambda get: a(get) and b(get)


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.i = tokens, 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise Unsupported("the logic ends too early")
        self.i += 1
        return tok

    def expression(self) -> Logic:
        left = self.conjunction()
        while (tok := self.peek()) is not None and tok[0] == "word" and tok[1].lower() == "or":
            self.take()
            left = _either(left, self.conjunction())
        return left

    def conjunction(self) -> Logic:
        left = self.atom()
        while (tok := self.peek()) is not None and tok[0] == "word" and tok[1].lower() == "and":
            self.take()
            left = _both(left, self.atom())
        return left

    def atom(self) -> Logic:
        if self.peek() == ("paren", "("):
            self.take()
            inner = self.expression()
            if self.take() != ("paren", ")"):
                raise Unsupported("unbalanced parentheses")
            return inner
        left = self.operand()
        kind, op = self.take()
        if kind != "op":
            raise Unsupported(f"expected a comparison, found {op!r}")
        right = self.operand()
        return lambda get: _compare(op, left(get), right(get))

    def operand(self) -> Callable[[Lookup], str]:
        kind, text = self.take()
        if kind == "string":
            return lambda get: text[1:-1]
        if kind == "number":
            return lambda get: text
        if kind != "field":
            raise Unsupported(f"expected a field or a value, found {text!r}")
        if text.count("[") > 1:
            raise Unsupported(f"event-prefixed field {text}")
        name = text[1:-1]
        m = _CHECKBOX.match(name)
        column = checkbox_column(m.group(1), m.group(2)) if m else name
        return lambda get: get(column) or ""


def parse(text: str) -> Logic:
    """The logic as a function of a lookup (export column -> value); :class:`Unsupported`
    if it is outside the subset."""
    parser = _Parser(_tokens(text))
    logic = parser.expression()
    if parser.peek() is not None:
        raise Unsupported(f"unexpected {parser.peek()[1]!r}")  # type: ignore[index]
    return logic
