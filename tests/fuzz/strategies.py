"""Hypothesis strategies shared by the fuzz harnesses: tricky text, byte edits, JSON values."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

# characters that make readers work: delimiters, quotes, line ends, BOMs, NUL, non-ASCII,
# lone surrogates (only where text is encoded with surrogateescape), XML specials
TRICKY = [
    ",",
    ";",
    "\t",
    "|",
    '"',
    "'",
    "\n",
    "\r",
    "\r\n",
    "\x00",
    "\ufeff",
    "é",
    "ü",
    "€",
    "\u2028",
    "\U0001f600",
    "<",
    ">",
    "&",
    "&amp;",
    "]]>",
    "\\",
    " ",
    "",
    "id",
    "ID",
    " id ",
    "HPO",
    "HP:0001250",
    "observed",
    "#N/A",
    "=1+1",
    "-",
    "0",
    "1e308",
    "nan",
]

text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(TRICKY),
    st.lists(st.sampled_from(TRICKY), max_size=4).map("".join),
)


@st.composite
def edited(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with a few random byte insertions, deletions and replacements."""
    out = bytearray(data)
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(out)))
        op = draw(st.sampled_from(["insert", "delete", "replace", "truncate"]))
        piece = draw(
            st.binary(min_size=1, max_size=4)
            | st.sampled_from([b"\x00", b"\xff", b"\xc3", b'"', b"\n", b"<", b"{", b"["])
        )
        if op == "insert":
            out[at:at] = piece
        elif op == "delete":
            del out[at : at + len(piece)]
        elif op == "replace":
            out[at : at + len(piece)] = piece
        else:
            del out[at:]
    return bytes(out)


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    text,
)
keys = st.one_of(st.sampled_from(["id", "Id", "ID", " id", "sex", "Sex", "a", "", "\x00"]), text)


def json_values(max_leaves: int = 20) -> st.SearchStrategy[Any]:
    return st.recursive(
        json_scalars,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def nested(depth: int) -> bytes:
    """A JSON value nested ``depth`` levels deep."""
    return b"[" * depth + b"]" * depth
