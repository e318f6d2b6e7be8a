"""Print one of the README's two quickstart commands, so CI runs exactly what a newcomer would.

Usage: python .ci/quickstart.py main|test
"""

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def quickstart_commands(text: str) -> list[str]:
    """The commands of the first ```bash block under '## Quickstart'."""
    section = text.split("## Quickstart", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    if block is None:
        raise SystemExit("README.md: no ```bash block under ## Quickstart")
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


if __name__ == "__main__":
    commands = quickstart_commands(README.read_text("utf-8"))
    if len(commands) != 2:
        raise SystemExit(f"README.md: the quickstart must have exactly two commands, found {len(commands)}")
    print(commands[{"main": 0, "test": 1}[sys.argv[1]]])
