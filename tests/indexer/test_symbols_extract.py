"""Symbol extraction from real snippets: each language's definitions (kind, qualified name, lines,
signature) and references (calls and other uses), with real tree-sitter grammars."""

from __future__ import annotations

import pytest

from ragpilot.indexer.languages import SUPPORTED_SYNTAX_LANGUAGES
from ragpilot.indexer.symbols.extract import extract_symbols, query_problems
from ragpilot.indexer.symbols.queries import SPECS

PYTHON = '''\
import os
MAX_RETRIES = 3
retries = 0

class Client(Base):
    @property
    def send(self, request: Request,
             *, stream: bool = False) -> Response:
        return self.transport.handle(request)

def helper(x):
    return Client().send(x)
'''

GO = '''\
package queue

const MaxSize = 10

type Queue struct {
\titems []int
}

type Pusher interface {
\tPush(v int)
}

func (q *Queue) Push(v int) {
\tq.items = append(q.items, v)
}

func New() *Queue {
\treturn &Queue{}
}
'''

TYPESCRIPT = '''\
export const MAX_ITEMS = 5;
export interface Shape { area(): number; }
export type Id = string;
export class Circle implements Shape {
  area(): number { return Math.PI * this.radius; }
}
export function makeCircle(r: number): Circle {
  return new Circle(r);
}
'''

JAVASCRIPT = '''\
const DEFAULT_PORT = 8080;
class Server {
  listen(port) { return bind(port || DEFAULT_PORT); }
}
function bind(port) { return new Server().listen(port); }
'''

RUST = '''\
pub const LIMIT: usize = 4;
pub struct Router { routes: Vec<String> }
pub trait Handler { fn handle(&self); }
impl Router {
    pub fn add(&mut self, r: String) { self.routes.push(r); }
}
impl fmt::Display for Router {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result { write!(f, "r") }
}
'''

JAVA = '''\
public class Repo implements Store {
    public static final int LIMIT = 3;
    private int count;
    public void save(String item) {
        validate(item);
    }
    enum State { OPEN, CLOSED }
}
'''

C = '''\
#define BUF_SIZE 64
typedef unsigned long ulong_t;
struct node { struct node *next; };
static int add(int a, int b) { return a + b; }
int main(void) { return add(1, BUF_SIZE); }
'''

CPP = '''\
namespace geo {
class Point {
public:
    double norm() const;
    void move(double dx) { x_ += dx; }
private:
    double x_;
};
double Point::norm() const { return std::sqrt(x_ * x_); }
}
int main() { geo::Point p; p.move(1.0); return 0; }
'''

CASES = [
    # path, source, (qualified, kind, line_start) of one definition, (name, kind) of one reference
    ("client.py", PYTHON, ("Client.send", "method", 7), ("handle", "call")),
    ("client.py", PYTHON, ("MAX_RETRIES", "constant", 2), ("Request", "name")),
    ("queue.go", GO, ("Queue.Push", "method", 13), ("append", "call")),
    ("queue.go", GO, ("queue.Pusher.Push", "method", 10), ("int", "name")),
    ("queue.go", GO, ("queue.Queue", "struct", 5), ("Queue", "name")),
    ("queue.go", GO, ("queue.MaxSize", "constant", 3), ("items", "name")),
    ("shapes.ts", TYPESCRIPT, ("Circle.area", "method", 5), ("Circle", "call")),
    ("shapes.ts", TYPESCRIPT, ("Shape", "interface", 2), ("Shape", "name")),
    ("shapes.ts", TYPESCRIPT, ("Id", "type", 3), ("PI", "name")),
    ("shapes.ts", TYPESCRIPT, ("MAX_ITEMS", "constant", 1), ("Math", "name")),
    ("shapes.ts", TYPESCRIPT, ("Shape.area", "method", 2), ("radius", "name")),
    ("server.js", JAVASCRIPT, ("Server.listen", "method", 3), ("bind", "call")),
    ("server.js", JAVASCRIPT, ("DEFAULT_PORT", "constant", 1), ("DEFAULT_PORT", "name")),
    ("router.rs", RUST, ("Router.add", "method", 5), ("push", "call")),
    ("router.rs", RUST, ("Router.fmt", "method", 8), ("write", "call")),
    ("router.rs", RUST, ("Handler", "trait", 3), ("Formatter", "name")),
    ("router.rs", RUST, ("LIMIT", "constant", 1), ("String", "name")),
    ("router.rs", RUST, ("Handler.handle", "method", 3), ("Router", "name")),
    ("Repo.java", JAVA, ("Repo.save", "method", 4), ("validate", "call")),
    ("Repo.java", JAVA, ("Repo.LIMIT", "constant", 2), ("Store", "name")),
    ("Repo.java", JAVA, ("Repo.State", "enum", 7), ("item", "name")),
    ("list.c", C, ("add", "function", 4), ("add", "call")),
    ("list.c", C, ("BUF_SIZE", "constant", 1), ("BUF_SIZE", "name")),
    ("list.c", C, ("ulong_t", "type", 2), ("next", "name")),
    ("geo.cpp", CPP, ("geo.Point.move", "method", 5), ("move", "call")),
    ("geo.cpp", CPP, ("geo.Point.norm", "method", 9), ("sqrt", "call")),
    ("geo.cpp", CPP, ("geo", "module", 1), ("Point", "name")),
]


@pytest.mark.parametrize(("path", "source", "definition", "reference"), CASES,
                         ids=[f"{c[0]}:{c[2][0]}" for c in CASES])
def test_each_language_yields_its_definitions_and_references(path, source, definition, reference):
    found = extract_symbols(path, source)
    defs = {(d.qualified, d.kind, d.line_start) for d in found.definitions}
    assert definition in defs
    assert reference in {(r.name, r.kind) for r in found.references}


def test_a_definition_knows_its_parent_lines_and_one_line_signature():
    found = extract_symbols("client.py", PYTHON)
    send = next(d for d in found.definitions if d.name == "send")
    assert (send.parent, send.line_start, send.line_end, send.language) == ("Client", 7, 9, "python")
    assert send.signature == "def send(self, request: Request, *, stream: bool = False) -> Response"
    cls = next(d for d in found.definitions if d.name == "Client")
    assert cls.signature == "class Client(Base)"


def test_module_variables_in_lower_case_are_not_constants():
    names = {d.name for d in extract_symbols("client.py", PYTHON).definitions}
    assert "MAX_RETRIES" in names and "retries" not in names


def test_go_methods_are_qualified_by_receiver_and_functions_by_package():
    found = extract_symbols("queue.go", GO)
    by_name = {d.name: d for d in found.definitions}
    assert (by_name["Push"].qualified, by_name["Push"].parent) == ("Queue.Push", "Queue")
    assert by_name["New"].qualified == "queue.New"


def test_rust_impl_methods_are_qualified_by_the_impl_type_even_for_trait_impls():
    found = extract_symbols("router.rs", RUST)
    assert {d.qualified for d in found.definitions if d.parent == "Router"} == {"Router.add", "Router.fmt"}
    assert not any(d.name.startswith("impl") for d in found.definitions)


def test_a_definitions_own_name_is_not_a_reference_but_its_uses_are():
    found = extract_symbols("server.js", JAVASCRIPT)
    bind_refs = [(r.line, r.kind) for r in found.references if r.name == "bind"]
    assert bind_refs == [(3, "call")]  # line 5 defines bind; only the call on line 3 refers to it


def test_receivers_and_one_letter_names_are_not_references():
    names = {r.name for r in extract_symbols("client.py", PYTHON).references}
    assert "self" not in names and "x" not in names


def test_files_without_a_syntax_tree_have_no_symbols():
    assert extract_symbols("README.md", "# Title\n\ndef f(): pass\n").definitions == []
    assert extract_symbols("notes.txt", "class A: pass\n").references == []
    assert extract_symbols("empty.py", "\n\n").definitions == []


def test_unparsable_code_still_yields_what_the_tree_has():
    found = extract_symbols("broken.py", "def ok():\n    return 1\n\ndef broken(:\n")
    assert "ok" in {d.name for d in found.definitions}


@pytest.mark.parametrize("language", sorted(SUPPORTED_SYNTAX_LANGUAGES))
def test_every_syntax_language_has_reference_queries_its_grammar_accepts(language):
    assert language in SPECS
    assert query_problems(language) == []


def test_an_over_long_signature_is_cut_to_one_short_line():
    params = ", ".join(f"p{i}: int" for i in range(80))
    found = extract_symbols("long.py", f"def wide({params}):\n    pass\n")
    sig = found.definitions[0].signature
    assert len(sig) <= 200 and sig.endswith("…") and "\n" not in sig
