"""Whole numbers as the protocols write them in text: ASCII digits only.

`str.isdigit()` is also true for a superscript two (which `int()` refuses) and an
Arabic-Indic five (which it reads as 5); TF Serving's URL pattern (`\\d+` in RE2) and
Triton take 0-9 alone, and so does every version and byte count read here.
"""

MAX_DIGITS = 20  # beyond any version (18 digits at most) or body size; int() has a limit too


def whole(text: str) -> int | None:
    """The number `text` writes in at most MAX_DIGITS ASCII digits, or None if it is
    anything else (Python's int() refuses strings over 4,300 digits with an error)."""
    if len(text) > MAX_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)
