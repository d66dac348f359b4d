"""Text for the terminal: whatever comes from a file or a path (a value, a service name, a folder
name, a note about an include) is shown with its control characters escaped, so that a compose file
cannot clear the screen, move the cursor, ring the bell or fake other output. The only escaping helper
of the terminal outputs (formats/text.py and the CLI's own lines); the machine formats escape for their
own destinations."""
from __future__ import annotations


def terminal(text) -> str:
    """One line, without control characters: C0 (ESC, BEL, CR, LF, TAB...), DEL, C1 and the other
    characters Python does not count as printable (U+2028, U+2029, bidi overrides...) become visible
    escapes such as \\x1b and \\u2028."""
    text = str(text)
    if text.isprintable():  # nearly always: one C call instead of a Python step per character
        return text
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"
                   if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}" for ch in text)
