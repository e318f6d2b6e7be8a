"""The wheel installs everything under the `ragpilot` namespace: nothing generic lands in site-packages."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from ragpilot.serve.web.public import STATIC_FILES


ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_puts_every_module_under_the_ragpilot_namespace(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path),
         str(ROOT)],
        check=True,
    )
    (wheel,) = tmp_path.glob("ragpilot-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {n.split("/")[0] for n in names}
    assert top_level == {"ragpilot", wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info"}
    for package in ("indexer", "retrieval", "serve", "eval"):
        assert f"ragpilot/{package}/__init__.py" in names
    assert "ragpilot/indexer/embedders/data/minilm-tokenizer.json" in names
    # Every module of the source tree is in the wheel: a new subpackage must be listed in pyproject.toml
    # (an editable install hides the omission; `pip install .` of the quickstart does not).
    sources = {f"ragpilot/{path.relative_to(ROOT).as_posix()}" for package in ("indexer", "retrieval", "serve", "eval")
               for path in (ROOT / package).rglob("*.py") if "__pycache__" not in path.parts}
    assert sources - set(names) == set()
    tasks = {f"ragpilot/{path.relative_to(ROOT).as_posix()}" for path in (ROOT / "eval" / "tasks").rglob("*.json*")}
    assert tasks - set(names) == set()
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    declared = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "ragpilot = ragpilot.serve.cli:main" in declared
    assert "[ragpilot.commands]" in declared and "eval = ragpilot.eval.cli:eval_cmd" in declared


def test_the_wheel_carries_the_pages_templates_and_static_files(tmp_path):
    import subprocess
    import sys
    import zipfile

    from ragpilot.serve.web.pages import STATIC, TEMPLATES

    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path), str(root)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("ragpilot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {f"ragpilot/serve/web/templates/{p.name}" for p in TEMPLATES.glob("*.html")}
    wanted |= {f"ragpilot/serve/web/static/{name}" for name in STATIC_FILES if (STATIC / name).exists()}
    wanted |= {"ragpilot/serve/routes/web.py", "ragpilot/serve/web/files.py"}
    assert len(wanted) >= 8 and wanted <= names, wanted - names
