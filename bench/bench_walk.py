"""Speed of choosing files: walk a 10k-file tree, answer the watcher's one-path questions, and run the
content checks (binary / minified / secrets) per file. Prints a table, writes bench/results/walk.json.

    python bench/bench_walk.py [--files 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from ragpilot.indexer.filters import content_skip_reason, secret_findings
from ragpilot.indexer.walk import IgnoreRules, entry_for, walk_repo

RESULTS = Path(__file__).parent / "results" / "walk.json"

# A realistic root .gitignore (abridged from GitHub's Python and Node templates).
ROOT_GITIGNORE = """
__pycache__/
*.py[cod]
*$py.class
*.so
.Python
build/
develop-eggs/
dist/
downloads/
eggs/
.eggs/
lib64/
parts/
sdist/
var/
wheels/
*.egg-info/
.installed.cfg
*.egg
MANIFEST
*.manifest
*.spec
pip-log.txt
htmlcov/
.coverage
.coverage.*
.cache
nosetests.xml
coverage.xml
*.cover
.hypothesis/
.pytest_cache/
*.log
logs
npm-debug.log*
.env
.venv
env/
venv/
/generated/
!important.log
"""
NESTED_GITIGNORES = {
    "pkg03": "*.tmp\n!keep.tmp\n",
    "pkg07/sub02": "data/\n*.csv\n",
    "pkg11": "/scratch*\n",
    "pkg15/sub05": "**/fixtures/*.json\n",
}
SOURCE = '"""Module {i}."""\n\n\ndef handler_{i}(request):\n    return request.get("value", {i})\n'


def build_tree(root: Path, n_files: int) -> dict:
    """Nested packages with a few .gitignores, ignored files, and a node_modules that must not be walked."""
    rng = random.Random(7)
    (root / ".gitignore").write_text(ROOT_GITIGNORE)
    for rel, text in NESTED_GITIGNORES.items():
        (root / rel).mkdir(parents=True, exist_ok=True)
        (root / rel / ".gitignore").write_text(text)
    per_dir = 25
    written = ignored = 0
    i = 0
    while written < n_files:
        d = root / f"pkg{(i // 10) % 20:02d}" / f"sub{i % 10:02d}" / f"mod{i // 200:02d}"
        d.mkdir(parents=True, exist_ok=True)
        for j in range(per_dir):
            ext = rng.choice([".py", ".py", ".py", ".ts", ".go", ".md", ".json"])
            (d / f"file{j:03d}{ext}").write_text(SOURCE.format(i=written))
            written += 1
        for name in ("debug.log", "x.pyc", "a.tmp"):  # ignored by the gitignores
            (d / name).write_text("x")
            ignored += 1
        i += 1
    nm = root / "node_modules"
    for k in range(200):
        pkg = nm / f"dep{k}" / "lib"
        pkg.mkdir(parents=True)
        for j in range(10):
            (pkg / f"m{j}.js").write_text("module.exports = 1;\n")
    (root / "build" / "out").mkdir(parents=True)
    (root / "build" / "out" / "bundle.js").write_text("x")
    return {"files_written": written, "ignored_files_written": ignored, "node_modules_files": 2000}


def timed(fn, repeat: int) -> tuple[float, object]:
    """Best of ``repeat`` runs: the machine is shared, the minimum is the least noisy estimate."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def stdlib_sources(lo: int = 8_000, hi: int = 12_000, limit: int = 300) -> list[tuple[str, bytes]]:
    lib = Path(sysconfig.get_paths()["stdlib"])
    out = []
    for p in sorted(lib.rglob("*.py")):
        if "site-packages" in p.parts:
            continue
        try:
            size = p.stat().st_size
        except OSError:
            continue
        if lo <= size <= hi:
            out.append((p.name, p.read_bytes()))
            if len(out) >= limit:
                break
    return out


def synthetic_configs(n: int = 50) -> list[tuple[str, bytes]]:
    """~10 KB YAML and JSON configs full of key/token/password-ish keys without real secrets."""
    rng = random.Random(3)
    out = []
    for k in range(n):
        lines = ["services:"]
        while sum(map(len, lines)) < 10_000:
            s = rng.randrange(10_000)
            lines += [f"  svc{s}:", f"    image: registry.local/svc{s}:1.{s % 9}",
                      f"    password_file: /run/secrets/svc{s}", f"    api_key: ${{SVC{s}_KEY}}",
                      f"    max_tokens: {s}", f"    secretName: svc{s}-tls", "    replicas: 2"]
        text = "\n".join(lines) + "\n"
        out.append((f"deploy{k}.yaml", text.encode()))
        body = ",\n".join(f'  "key{j}": {{"tokenizer": "bpe", "input_token": "NextToken", "n": {j}}}'
                          for j in range(120))
        out.append((f"conf{k}.json", ("{\n" + body + "\n}\n").encode()))
    return out


def bench_content(samples: list[tuple[str, bytes]], repeat: int) -> dict:
    content_skip_reason("warm.py", b"x = 1\n")  # detector import/compile happens once, not per file
    total = sum(len(d) for _, d in samples)
    t, reasons = timed(lambda: [content_skip_reason(n, d) for n, d in samples], repeat)
    return {"files": len(samples), "avg_bytes": total // max(1, len(samples)),
            "us_per_file": t / len(samples) * 1e6, "us_per_10kb": t / total * 10_240 * 1e6,
            "skipped": sum(1 for r in reasons if r)}


def bench_detect_secrets(samples: list[tuple[str, bytes]], tmp: Path) -> dict:
    """detect-secrets' own scanner and its plugins line by line, for comparison (a few files only)."""
    from detect_secrets.core.scan import scan_file
    from detect_secrets.plugins.aws import AWSKeyDetector
    from detect_secrets.plugins.github_token import GitHubTokenDetector
    from detect_secrets.plugins.jwt import JwtTokenDetector
    from detect_secrets.plugins.private_key import PrivateKeyDetector
    from detect_secrets.plugins.slack import SlackDetector
    from detect_secrets.plugins.stripe import StripeDetector
    from detect_secrets.settings import default_settings

    few = samples[:20]
    paths = []
    for k, (name, data) in enumerate(few):
        p = tmp / f"ds{k}_{name}"
        p.write_bytes(data)
        paths.append(str(p))
    with default_settings():
        t = time.perf_counter()
        for p in paths:
            list(scan_file(p))
        full = (time.perf_counter() - t) / len(paths)
    plugins = [AWSKeyDetector(), PrivateKeyDetector(), GitHubTokenDetector(), SlackDetector(),
               StripeDetector(), JwtTokenDetector()]
    texts = [d.decode("utf-8", "replace") for _, d in few]
    t = time.perf_counter()
    for text in texts:
        for line in text.splitlines():
            for plugin in plugins:
                for _ in plugin.analyze_string(line):
                    pass
    per_line = (time.perf_counter() - t) / len(texts)
    t = time.perf_counter()
    for text, (name, _) in zip(texts, few, strict=True):
        secret_findings(text, rel=name)
    ours = (time.perf_counter() - t) / len(texts)
    return {"files": len(few), "detect_secrets_scan_file_ms": full * 1e3,
            "detect_secrets_6_plugins_per_line_ms": per_line * 1e3, "ragpilot_secret_findings_ms": ours * 1e3}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="ragpilot-bench-walk-") as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        t = time.perf_counter()
        tree = build_tree(root, args.files)
        build_s = time.perf_counter() - t

        cold_s, cold = timed(lambda: walk_repo(root), args.repeat)
        rules = IgnoreRules(root)
        walk_repo(root, rules=rules)
        warm_s, warm = timed(lambda: walk_repo(root, rules=rules), args.repeat)

        rels = [e.rel for e in warm.files]
        rng = random.Random(1)
        probe = rng.sample(rels, min(1000, len(rels))) + [f"pkg03/sub0{k}/mod00/a.tmp" for k in range(10)]
        fresh = IgnoreRules(root)
        t = time.perf_counter()
        kept = sum(1 for rel in probe if entry_for(root, rel, fresh) is not None)
        watcher_us = (time.perf_counter() - t) / len(probe) * 1e6

        code = bench_content(stdlib_sources(), args.repeat)
        configs = bench_content(synthetic_configs(), args.repeat)
        big = stdlib_sources(200_000, 1_000_000, 5)
        large = bench_content(big, 1) if big else {}
        ds = bench_detect_secrets(stdlib_sources(), Path(tmp))

    results = {
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                    "cpus": os.cpu_count(), "load_avg_1m": os.getloadavg()[0]},
        "tree": {**tree, "build_seconds": build_s},
        "walk": {"files_kept": len(cold.files), "skipped": cold.skipped.by_reason,
                 "cold_seconds": cold_s, "warm_seconds": warm_s,
                 "us_per_kept_file_warm": warm_s / max(1, len(warm.files)) * 1e6},
        "watcher_entry_for": {"paths": len(probe), "kept": kept, "us_per_path_cold_rules": watcher_us},
        "content_checks": {"source_10kb": code, "config_10kb": configs, "large_source": large},
        "secret_scan_comparison": ds,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")

    walk, chk = results["walk"], results["content_checks"]
    rows = [
        ("tree", f"{tree['files_written']} files + {tree['ignored_files_written']} ignored "
                 f"+ {tree['node_modules_files']} in node_modules"),
        ("walk_repo, fresh rules (best)", f"{cold_s * 1e3:.1f} ms -> {len(cold.files)} files kept"),
        ("walk_repo, reused rules (best)",
         f"{warm_s * 1e3:.1f} ms ({walk['us_per_kept_file_warm']:.1f} us/file)"),
        ("skipped by reason", ", ".join(f"{k}={v}" for k, v in sorted(cold.skipped.by_reason.items()))),
        ("entry_for (watcher), fresh rules", f"{watcher_us:.1f} us/path over {len(probe)} paths"),
        ("content check, 10 KB source", f"{code['us_per_file']:.0f} us/file ({code['files']} stdlib files)"),
        ("content check, 10 KB YAML/JSON", f"{configs['us_per_file']:.0f} us/file ({configs['files']} files, "
                                           "keyword-dense worst case)"),
    ]
    if large:
        rows.append(("content check, large source",
                     f"{chk['large_source']['us_per_10kb']:.0f} us per 10 KB ({large['files']} files, "
                     f"avg {large['avg_bytes'] // 1024} KB)"))
    rows += [
        ("detect-secrets scan_file (default)", f"{ds['detect_secrets_scan_file_ms']:.1f} ms/file"),
        ("detect-secrets 6 plugins per line", f"{ds['detect_secrets_6_plugins_per_line_ms']:.2f} ms/file"),
        ("ragpilot secret_findings", f"{ds['ragpilot_secret_findings_ms']:.3f} ms/file"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
