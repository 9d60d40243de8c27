"""Text that people read: what a customer's field or a catalog entry may hold, and how stored text
is shown where its characters could act instead of being read.

A name or an address is one line of text. A line break in one lets a customer write lines of
their own into the owner's notification (a fake "Approve and ship it:" block above the real
links); an ESC or BEL drives the owner's terminal (`shop order show`: window title, screen
clear, clipboard); a bidi override (U+202E) makes the text around it read in another order than
it is stored. None of these belong in a name, so they are refused where text enters, with the
field named, and escaped where stored text is shown, for whatever was stored before.
"""

from __future__ import annotations

import unicodedata

# Line breaks beyond the C0/C1 controls: Unicode's line and paragraph separators (Zl, Zp).
_SEPARATORS = frozenset("\u2028\u2029")
# Bidirectional embeddings, overrides and isolates (LRE, RLE, PDF, LRO, RLO; LRI, RLI, FSI, PDI):
# they reorder the characters that follow them ("Trojan Source", CVE-2021-42574). The plain marks
# (LRM, RLM, ALM) are kept: they only nudge neutral characters, and right-to-left names use them.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x85") | _SEPARATORS


def _is_control(char: str) -> bool:
    """C0 (U+0000-U+001F), DEL and C1 (U+0080-U+009F): Unicode's category Cc, exactly."""
    return unicodedata.category(char) == "Cc"


def _kind(char: str) -> str:
    if char in _LINE_BREAKS:
        return "a line break"
    if char in _BIDI_CONTROLS:
        return "a bidirectional text control"
    return "a control character"


def forbidden_character(text: str, *, multiline: bool = False) -> str | None:
    """Why `text` cannot be shown as it is, in words ("a line break (U+000A)"), or None.

    One-line text (a name, an address field, an email) holds no control character, line break or
    bidi control. `multiline` text (a product's description) may hold LF and CR, nothing else.
    """
    for char in text:
        if multiline and char in "\n\r":
            continue
        if _is_control(char) or char in _SEPARATORS or char in _BIDI_CONTROLS:
            return f"{_kind(char)} (U+{ord(char):04X})"
    return None


# Characters that show nothing on their own, beyond spaces and format characters (Cf: U+200B zero
# width space, U+FEFF, the tag characters U+E0000-E007F): the Hangul fillers, which are letters
# (Lo) that render blank, and the braille blank. Unicode lists the fillers as default-ignorable.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Spaces (Zs), format characters (Cf), and marks that only combine with another character (Mn, Me).
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Cf", "Mn", "Me"})


def _invisible(char: str) -> bool:
    return char.isspace() or char in _BLANK_LETTERS or unicodedata.category(char) in _INVISIBLE_CATEGORIES


def invisible_only(text: str) -> str | None:
    """If `text` shows nothing at all (a name of only U+200B, Hangul fillers or tag characters,
    which a "not blank" rule takes for text), the first of its characters in words ("U+3164"),
    else None. Text with one visible character is not judged here."""
    if text and all(_invisible(char) for char in text):
        stripped = text.strip() or text
        return f"U+{ord(stripped[0]):04X}"
    return None


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every control character, line break and bidi control written as a visible
    escape (`\\x1b`, `\\u202e`): safe to print on a terminal or in a plain-text message, where
    the character itself would act (a new line, a screen clear, reversed text)."""
    return "".join(
        _escaped(char) if _is_control(char) or char in _SEPARATORS or char in _BIDI_CONTROLS else char
        for char in text
    )


def quoted(text: str) -> str:
    """Customer text in double quotes, for a plain-text message the owner reads: its quotes and
    backslashes escaped, so it can never close the quotes early, and `printable`, so it can never
    start a line of its own. Whatever a customer typed reads as one quoted value."""
    inner = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{printable(inner)}"'
