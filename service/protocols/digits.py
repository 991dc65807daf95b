"""Whole numbers as the protocols write them in text: ASCII digits only.

`str.isdigit()` is also true for a superscript two (which `int()` refuses) and an
Arabic-Indic five (which it reads as 5); TF Serving's URL pattern (`\\d+` in RE2) and
Triton take 0-9 alone, and so does every version and byte count read here.
"""


def whole(text: str) -> int | None:
    """The number `text` writes in ASCII digits, or None if it is anything else."""
    return int(text) if text.isascii() and text.isdigit() else None
