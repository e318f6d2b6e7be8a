"""Code -> highlighted HTML with Pygments, on the server: every character of the source is escaped.

Each line becomes its own ``<span class="line" id="L<n>">`` (Pygments closes its token spans at line
ends), so a file page can be opened at ``#L42`` and a snippet shows its real line numbers.
"""

from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import TextLexer, get_lexer_by_name, get_lexer_for_filename
from pygments.util import ClassNotFound

CSS_SCOPE = ".hl"
STYLE = "default"

# Pygments strips leading and trailing blank lines by default, which would shift every line number.
_KEEP_LINES = {"stripnl": False, "stripall": False}


@lru_cache(maxsize=64)
def _lexer(language: str, filename: str) -> Lexer:
    for attempt in (lambda: get_lexer_by_name(language, **_KEEP_LINES),
                    lambda: get_lexer_for_filename(filename, **_KEEP_LINES)):
        try:
            return attempt()
        except ClassNotFound:
            continue
    return TextLexer(**_KEEP_LINES)


def _formatter() -> HtmlFormatter:
    return HtmlFormatter(nowrap=True, style=STYLE)


def highlight_lines(code: str, *, language: str = "", filename: str = "") -> list[Markup]:
    """One escaped, highlighted HTML string per line of ``code``."""
    if not code:
        return [Markup("")]
    lexer = _lexer(language or "", filename or "")
    html = pygments_highlight(code, lexer, _formatter())
    lines = html.split("\n")
    if lines and lines[-1] == "" and not code.endswith("\n\n"):
        lines.pop()  # Pygments ends its output with a newline
    wanted = code.count("\n") + (0 if code.endswith("\n") else 1)
    return [Markup(line) for line in lines[:max(wanted, 1)]]


def highlight_block(code: str, *, language: str = "", filename: str = "", first_line: int = 1,
                    marked: range | None = None, anchors: bool = True) -> Markup:
    """``<span class="line">`` per line with its number (``id="L<n>"`` and a link to it when
    ``anchors``: one file per page; snippets go without, ids must be unique); lines in ``marked`` get
    ``hit``. Lines are blocks, so no newline goes between them."""
    out = []
    for n, line in enumerate(highlight_lines(code, language=language, filename=filename), first_line):
        cls = "line hit" if marked is not None and n in marked else "line"
        if anchors:
            out.append(Markup('<span class="{}" id="L{}"><a class="ln" href="#L{}">{}</a>{}</span>').format(
                cls, n, n, n, line))
        else:
            out.append(Markup('<span class="{}"><span class="ln">{}</span>{}</span>').format(cls, n, line))
    return Markup("").join(out)


@lru_cache(maxsize=1)
def stylesheet() -> str:
    """The token colours, scoped to ``.hl`` (served as ``/ui/static/highlight.css``)."""
    return HtmlFormatter(style=STYLE).get_style_defs(CSS_SCOPE)

