"""The paths of the web page that need no API key: the HTML shell and its static assets.

None of them carries repository data (the shell is a fixed template, the assets are files of this
package), so a browser can load the page and let the user type the key; every request that returns
data (``/ui/search``, ``/ui/file``, ``/ui/health`` and the API itself) still needs the key. Exact
paths, not prefixes, so no other route can slip under the exemption. A leaf module: the auth
middleware imports it.
"""

from __future__ import annotations

SHELL_PATH = "/"
STATIC_PREFIX = "/ui/static/"
STATIC_FILES = ("ragpilot.css", "ragpilot.js", "highlight.css")

PUBLIC_PATHS: frozenset[str] = frozenset({SHELL_PATH, *(STATIC_PREFIX + name for name in STATIC_FILES)})
