"""lancedb imported without running the REST namespace client's __init__, and nothing lost by it.

Each check runs in a fresh interpreter: what matters is what one ``import`` leaves in ``sys.modules``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_opening_the_store_module_does_not_import_the_rest_namespace_api_classes():
    out = run("""
        import sys
        import ragpilot.indexer.store
        print("lance_namespace_urllib3_client.api" in sys.modules, "lance_namespace_urllib3_client" in sys.modules)
    """)
    assert out == "False True"  # registered (deferred), its API classes not imported


def test_the_deferred_package_loads_in_full_on_first_attribute_access():
    out = run("""
        import sys
        from ragpilot.indexer.lancedb_import import lancedb
        import lance_namespace_urllib3_client as client
        print(client.ApiClient.__name__, client.TableApi.__name__, "lance_namespace_urllib3_client.api" in sys.modules)
        print(client.Configuration().host)
    """)
    first, host = out.splitlines()
    assert first == "ApiClient TableApi True"
    assert host.startswith("http")


def test_lancedb_from_the_deferred_import_creates_writes_and_reads_a_local_table(tmp_path):
    out = run(f"""
        from ragpilot.indexer.lancedb_import import lancedb
        db = lancedb.connect({str(tmp_path / "db")!r})
        table = db.create_table("t", data=[{{"id": 1, "text": "hello"}}, {{"id": 2, "text": "world"}}])
        print(table.count_rows(), sorted(r["text"] for r in table.search().limit(None).to_list()))
    """)
    assert out == "2 ['hello', 'world']"


def test_a_package_already_imported_is_left_as_it_is():
    out = run("""
        import sys
        import lance_namespace_urllib3_client as real
        from ragpilot.indexer.lancedb_import import defer_package_init
        print(defer_package_init("lance_namespace_urllib3_client"), sys.modules["lance_namespace_urllib3_client"] is real)
    """)
    assert out == "None True"
