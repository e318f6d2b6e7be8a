"""False positives of the secret rules on code nobody here wrote: how many files the known-format
detectors skip, how many values the name-based rules redact, and how many chunks either hides.

Walks each tree the way the indexer does (ignore rules, built-in skips, secret file names), runs the
content check and the redaction on every file, and chunks only the files hit (the chunks of a skipped
file are all hidden; of a redacted file, those holding ``[REDACTED]``). Each hit is listed with its
line, the value masked, so a reader can judge true vs false positive; ``--show`` prints the values.

    python bench/bench_secrets.py NAME=PATH [NAME=PATH ...] [--exclude DIR] [--show]
    (default: the stdlib and the installed click, httpx and rich)

Prints a table; writes bench/results/secrets.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import sysconfig
import time
from pathlib import Path

from ragpilot.indexer.chunking import chunk_file
from ragpilot.indexer.filters import content_skip_reason, decode_text
from ragpilot.indexer.redact import REDACTED, find_secret_values, redact_secrets
from ragpilot.indexer.secrets import secret_findings
from ragpilot.indexer.walk import walk_repo

RESULTS = Path(__file__).parent / "results" / "secrets.json"
BUDGET = 256  # MiniLM's window; word counts stand in for its tokenizer (only chunk counts matter here)


def _count_words(text: str) -> int:
    return len(text.split())


def _default_corpora() -> dict[str, Path]:
    site = Path(sysconfig.get_paths()["purelib"])
    corpora = {"stdlib": Path(sysconfig.get_paths()["stdlib"])}
    corpora.update({name: site / name for name in ("click", "httpx", "rich") if (site / name).is_dir()})
    return corpora


def _mask(value: str) -> str:
    return value[:3] + "*" * max(0, len(value) - 3)


def _line_of(text: str, start: int, end: int, masked: str) -> tuple[int, str]:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end == -1 else line_end
    line = (text[line_start:start] + masked + text[end:line_end]).strip()
    return text.count("\n", 0, start) + 1, line[:200]


def scan_tree(name: str, root: Path, *, show: bool, exclude: tuple[str, ...] = ()) -> dict:
    walked = walk_repo(root)
    walked.files = [e for e in walked.files if not e.rel.startswith(exclude)]
    row = {"corpus": name, "root": str(root), "files_scanned": 0, "files_skipped_by_name": 0,
           "files_skipped_secret": 0, "chunks_hidden_by_skip": 0, "files_redacted": 0,
           "values_redacted": 0, "chunks_redacted": 0, "hits": [], "seconds": 0.0}
    row["files_skipped_by_name"] = walked.skipped.by_reason.get("secret", 0)
    t0 = time.perf_counter()
    for entry in walked.files:
        data = entry.abs.read_bytes()
        reason = content_skip_reason(entry.rel, data)
        if reason not in (None, "secret"):
            continue
        text = decode_text(data)
        if text is None:
            continue
        row["files_scanned"] += 1
        if reason == "secret":
            row["files_skipped_secret"] += 1
            chunks = chunk_file(entry.rel, text, budget=BUDGET, count_tokens=_count_words)
            row["chunks_hidden_by_skip"] += len(chunks)
            row["hits"].append({"path": entry.rel, "kind": "skip", "rules": secret_findings(text, rel=entry.rel),
                                "chunks": len(chunks)})
            continue
        values = find_secret_values(text, entry.rel)
        if not values:
            continue
        redacted = redact_secrets(text, entry.rel).text
        chunks = chunk_file(entry.rel, redacted, budget=BUDGET, count_tokens=_count_words)
        row["files_redacted"] += 1
        row["values_redacted"] += len(values)
        row["chunks_redacted"] += sum(REDACTED in c.content for c in chunks)
        for v in values:
            value = text[v.start:v.end]
            line_no, line = _line_of(text, v.start, v.end, value if show else _mask(value))
            row["hits"].append({"path": entry.rel, "kind": "redact", "rule": v.rule, "line": line_no,
                                "text": line})
    row["seconds"] = round(time.perf_counter() - t0, 2)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpora", nargs="*", help="NAME=PATH trees to scan (default: stdlib, click, httpx, rich)")
    parser.add_argument("--show", action="store_true", help="print the values found, unmasked, to judge them")
    parser.add_argument("--exclude", action="append", default=[], metavar="DIR",
                        help="skip this top-level folder of every tree (e.g. site-packages in the stdlib)")
    args = parser.parse_args()
    corpora = dict(c.split("=", 1) for c in args.corpora) if args.corpora else _default_corpora()
    exclude = tuple(d.rstrip("/") + "/" for d in args.exclude)
    rows = [scan_tree(name, Path(path), show=args.show, exclude=exclude) for name, path in corpora.items()]

    for row in rows:
        for hit in row["hits"]:
            where = f"{row['corpus']}:{hit['path']}"
            if hit["kind"] == "skip":
                print(f"SKIP    {where} [{', '.join(hit['rules'])}] {hit['chunks']} chunks")
            else:
                print(f"REDACT  {where}:{hit['line']} [{hit['rule']}] {hit['text']}")
    header = ("corpus", "files", "skipped (secret)", "chunks hidden", "files redacted", "values redacted",
              "chunks redacted", "s")
    print("\n| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    keys = ("files_scanned", "files_skipped_secret", "chunks_hidden_by_skip", "files_redacted",
            "values_redacted", "chunks_redacted", "seconds")
    totals = {k: sum(r[k] for r in rows) for k in keys}
    for row in [*rows, {"corpus": "total", **totals}]:
        print("| " + " | ".join(str(row[k]) for k in ("corpus", *keys)) + " |")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"python": sys.version.split()[0], "corpora": rows, "total": totals},
                                  indent=1) + "\n")
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
