"""Repository-derived text made safe for a terminal: control characters shown, never obeyed.

File names and file contents are the user's (or an attacker's, in a cloned repository): an ESC
sequence in them could set the window title, clear the screen or rewrite earlier lines, and a bidi
override could make shown code read differently from what it is (Trojan Source). Human output shows
each such character as a visible escape (``\\x1b``, ``\\u202e``); newlines and tabs are kept.
Machine output (``--json``) is never passed through here: it stays exact.

A leaf module: it imports nothing of ours.
"""

from __future__ import annotations

_C0 = [c for c in range(0x20) if c not in (0x09, 0x0A)]  # all but tab and newline (CR too: it rewrites the line)
_DEL_AND_C1 = range(0x7F, 0xA0)
_BIDI_CONTROLS = [0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069]

_VISIBLE = {c: f"\\x{c:02x}" for c in [*_C0, *_DEL_AND_C1]} | {c: f"\\u{c:04x}" for c in _BIDI_CONTROLS}


def terminal_safe(text: str) -> str:
    """``text`` with every terminal control character (C0 but tab/newline, DEL, C1, bidi embeddings,
    overrides and isolates) replaced by its visible escape."""
    return text.translate(_VISIBLE)
