"""The layers of docs/architecture.md hold: each package imports only the layers below it, the
rules import no framework, nothing but the edge and the entry points imports the schema, the top of
app/ holds only the foundation and the process's entry points, and no import circle exists
(counting imports inside functions and under TYPE_CHECKING, so none can hide one), between modules
or between the schema's area folders; every loader lives in app/schema/loaders/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"

# Any layer may import these; they import only each other (and the standard library, third parties).
FOUNDATION = {"app.errors", "app.ids", "app.clock", "app.config", "app.auth"}
# ...and these, with why. No layer with I/O: nothing that could import the foundation's users back.
FOUNDATION_ALSO_IMPORTS = {
    "app.rules.scopes": "auth mints and reads tokens in the scopes' vocabulary; the rules import only app.errors",
}
# What each layer may import from app/, besides itself.
ALLOWED: dict[str, set[str]] = {
    "app.rules": {"app.errors"},
    "app.db": {"app.rules", "app.errors", "app.ids", "app.clock"},
    "app.live": {"app.db", "app.rules"} | FOUNDATION,
    "app.operations": {"app.live", "app.db", "app.rules"} | FOUNDATION,
    "app.events": {"app.operations", "app.live", "app.db", "app.rules"} | FOUNDATION,
    "app.schema": {"app.operations", "app.live", "app.db", "app.rules"} | FOUNDATION,
    # The test payer reads and writes files through the pure EDI rules, and touches nothing of the service.
    "app.payer_sim": {"app.rules", "app.errors"},
    "app.http": {"app.schema", "app.operations", "app.live", "app.db", "app.rules"} | FOUNDATION,
}
# The process: the application, its lifespan, the command line and the demo clinic.
ENTRY_POINTS = {"app.main", "app.cli", "app.cli_entry", "app.demo"}
# Frameworks a layer must not touch.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "app.rules": ("sqlalchemy", "strawberry", "starlette", "graphql", "asyncpg", "broadcaster"),
    "app.db": ("strawberry", "starlette", "graphql"),
    "app.live": ("strawberry", "starlette", "graphql"),
    "app.operations": ("strawberry", "starlette", "graphql"),
    "app.events": ("strawberry", "starlette", "graphql"),
    "app.payer_sim": ("sqlalchemy", "strawberry", "starlette", "graphql", "asyncpg", "broadcaster"),
}
# Imports inside functions, and why each is there (none may be there to dodge a circle).
LATE_IMPORTS = {
    "app.cli": "each command imports what it runs, so `group-sessions token` starts without the server",
    "app.db.embedded": "pgserver is only imported when no DATABASE_URL is set",
    "app.live.backends": "redis is only imported for a redis:// broadcaster",
    "app.rules.diagnoses": "simple_icd_10_cm reads its tabular list (about 2 s) on import: only when a code is checked",
}


def modules() -> dict[str, Path]:
    found = {}
    for path in APP.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        name = ".".join(path.relative_to(APP.parent).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports(path: Path) -> list[tuple[str, bool]]:
    """(module imported, whether at module level) for every import in the file."""
    tree = ast.parse(path.read_text())
    top_level = {id(node) for node in tree.body}
    for node in tree.body:  # `if TYPE_CHECKING:` blocks count as module level
        if isinstance(node, ast.If):
            top_level |= {id(child) for child in node.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.module, id(node) in top_level)] + [
                (f"{node.module}.{a.name}", id(node) in top_level) for a in node.names
            ]
        elif isinstance(node, ast.Import):
            found += [(a.name, id(node) in top_level) for a in node.names]
    return found


def layer_of(module: str) -> str:
    return next((layer for layer in ALLOWED if module == layer or module.startswith(layer + ".")), module)


def app_imports() -> dict[str, set[str]]:
    known = modules()
    return {m: {i for i, _ in imports(p) if i in known and i != m} for m, p in known.items()}


def foundation_breaches(graph: dict[str, set[str]]) -> list[str]:
    allowed = FOUNDATION | set(FOUNDATION_ALSO_IMPORTS)
    return [f"{module} imports {target}" for module in sorted(FOUNDATION) for target in sorted(graph[module] - allowed)]


def breaches(graph: dict[str, set[str]], layer: str) -> list[str]:
    wrong = []
    for module, imported in graph.items():
        if layer_of(module) != layer:
            continue
        for target in imported:
            target_layer = layer_of(target)
            if target_layer != layer and target_layer not in ALLOWED[layer] and target not in ALLOWED[layer]:
                wrong.append(f"{module} imports {target}")
    return wrong


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_the_layers_below_it(layer):
    assert breaches(app_imports(), layer) == []


def test_the_foundation_imports_only_the_foundation():
    assert foundation_breaches(app_imports()) == []


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_lower_layers_import_no_web_or_graphql_framework(layer):
    wrong = [
        f"{module} imports {name}"
        for module, path in modules().items()
        if layer_of(module) == layer
        for name, _ in imports(path)
        if name.split(".")[0] in FORBIDDEN[layer]
    ]
    assert wrong == []


def test_only_the_edge_and_the_entry_points_import_the_schema():
    wrong = [
        f"{module} imports {target}"
        for module, imported in app_imports().items()
        if layer_of(module) not in {"app.schema", "app.http"} and module not in ENTRY_POINTS
        for target in imported
        if target.startswith("app.schema")
    ]
    assert wrong == []


def test_the_top_of_app_holds_only_the_foundation_and_the_entry_points():
    top = {name for name, path in modules().items() if name.count(".") == 1 and path.name != "__init__.py"}
    assert top == FOUNDATION | ENTRY_POINTS


def test_no_import_is_made_inside_a_function_except_the_listed_ones():
    late = sorted({m for m, p in modules().items() for name, at_top in imports(p) if not at_top} - set(LATE_IMPORTS))
    assert late == []


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan's)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle():
    assert circles(app_imports()) == []


SCHEMA = APP / "schema"
LOADERS = "app.schema.loaders"


def schema_areas() -> set[str]:
    """The schema's area folders (sessions, billing, ...): every package under app/schema but the loaders'."""
    return {path.parent.name for path in SCHEMA.glob("*/__init__.py")} - {"loaders"}


def area_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 3 and parts[:2] == ["app", "schema"] and parts[2] in schema_areas() else None


# The other areas whose loaders (app/schema/loaders/<area>.py) each area folder reads, and why: the
# rows its types show. Every DataLoader lives in app/schema/loaders/, below every area folder, so
# these imports tie no two folders together; the list makes a new cross-area read a decision,
# written here, not an accident. An area always reads its own loaders; one not named reads no other's.
AREA_READS_LOADERS_OF: dict[str, set[str]] = {
    "billing": {"reference", "remittance", "sessions"},  # a charge's patient, payer, postings, session
    "calendars": {"reference", "scheduling"},  # a feed's facility and groups
    "coverage": {"reference"},  # a coverage's patient and payer
    "displays": {"reference"},  # a room display's facility
    # an enrollment's coverage and absence alerts, patient, group
    "enrollment": {"coverage", "history", "reference", "scheduling"},
    "history": {"enrollment", "reference", "scheduling"},  # a history's enrollments, patient, groups
    "live": {"enrollment", "sessions"},  # priming a change's loaders with what the hub read
    "notes": {"reference", "sessions"},  # a note's author and session
    "reference": {"billing", "notes", "remittance"},  # a patient's charges, a payer's rules, balances
    "remittance": {"billing", "reference", "sessions"},  # a posting's charge, claim, payer, session
    "scheduling": {"enrollment", "reference", "sessions"},  # a group's enrollments, facility, sessions
    # a session's preview, alerts, notes, staff, group
    "sessions": {"billing", "coverage", "notes", "reference", "scheduling"},
}


def loader_breaches(graph: dict[str, set[str]]) -> list[str]:
    """Imports that break the loaders' one home: app/schema/loaders/ importing an area folder (the
    loaders sit below every area), and an area folder importing another area's loader module
    (app.schema.loaders.<other>) not listed in AREA_READS_LOADERS_OF."""
    wrong = []
    for module, imported in sorted(graph.items()):
        if module == LOADERS or module.startswith(LOADERS + "."):
            wrong += [f"{module} imports {target}" for target in sorted(imported) if area_of(target) is not None]
            continue
        area = area_of(module)
        if area is None:
            continue
        for target in sorted(imported):
            if not target.startswith(LOADERS + "."):
                continue
            other = target.split(".")[3]
            if other != area and other not in AREA_READS_LOADERS_OF.get(area, set()):
                wrong.append(f"{module} imports {target}")
    return wrong


def test_no_area_folder_imports_another_areas_loaders():
    assert loader_breaches(app_imports()) == []


def test_every_listed_cross_area_loader_read_is_made():
    """The list is today's imports, no more: a read that is dropped is dropped from the list too."""
    made: dict[str, set[str]] = {}
    for module, imported in app_imports().items():
        area = area_of(module)
        if area is not None:
            made.setdefault(area, set()).update(
                t.split(".")[3] for t in imported if t.startswith(LOADERS + ".") and t.split(".")[3] != area
            )
    assert {a: made.get(a, set()) for a in AREA_READS_LOADERS_OF} == AREA_READS_LOADERS_OF


def test_loaders_live_in_app_schema_loaders_only():
    assert sorted(m for m in modules() if area_of(m) and m.split(".")[-1] == "loaders") == []


def test_only_app_schema_loaders_makes_a_loader():
    """`loaders.of(...)`, `loaders.by_id(...)`: a loader is made by its named accessor, so no
    resolver names one by hand (and two resolvers cannot name one two ways)."""
    wrong = []
    for module, path in modules().items():
        if module.startswith(LOADERS + ".") or not module.startswith("app.schema"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"of", "by_id"}
            ):
                owner = node.func.value
                name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
                if name == "loaders":
                    wrong.append(f"{module}:{node.lineno}")
    assert wrong == []


def test_every_info_parameter_in_the_schema_is_typed():
    """`info: Info` (app.schema.context: strawberry.Info[Context, None]); graphql-core's own hooks
    (is_type_of) take its GraphQLResolveInfo."""
    wrong = []
    for module, path in modules().items():
        if not module.startswith("app.schema"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for arg in node.args.args + node.args.kwonlyargs:
                    typed = isinstance(arg.annotation, ast.Name) and arg.annotation.id in {"Info", "GraphQLResolveInfo"}
                    if arg.arg == "info" and not typed:
                        wrong.append(f"{module}:{node.lineno} {node.name}")
    assert wrong == []


def test_schema_area_folders_form_no_circle():
    """Folder by folder: cross-area types are strawberry.lazy, cross-area loads go through app/schema/loaders."""
    graph: dict[str, set[str]] = {}
    for module, imported in app_imports().items():
        area = area_of(module)
        if area is not None:
            graph.setdefault(area, set()).update(a for a in map(area_of, imported) if a not in (None, area))
    assert circles(graph) == []


@pytest.mark.parametrize(
    ("module", "target"),
    [
        # notes reads the reference and sessions loaders, not scheduling's
        ("app.schema.notes.types", "app.schema.loaders.scheduling"),
        # the loaders sit below every area folder
        ("app.schema.loaders.sessions", "app.schema.sessions.types"),
    ],
)
def test_a_loader_breach_is_caught(module, target):
    graph = app_imports()
    assert target in modules() and target not in graph[module]
    graph[module] = graph[module] | {target}
    assert loader_breaches(graph) == [f"{module} imports {target}"]


ENCODERS = {"app.ids.encode_id", "app.ids.with_global_ids"}
# Who turns a key into a GraphQL global id: the schema and the edge, which speak the API's ids, and
# these, with why. A live update names the rows a change touched as (type name, key) pairs
# (app.rules.updates.touched); the schema encodes them.
ENCODES_IDS_ALSO = {
    "app.demo": "prints the demo clinic's ids for the walkthroughs, as a client sends them",
    "app.db.uow": "a domain event's payload (outbox feed, webhooks) carries globalIds beside its UUIDs",
    "app.operations.attendance": "a refused mark's message names the roster entry as the client sent it",
    "app.operations.sessions": "a refused new session's message names the patients as the client sent them",
}


def name_imports() -> dict[str, set[str]]:
    """Every module's imports, with the names it imports from each (`app.ids.encode_id`)."""
    return {m: {i for i, _ in imports(p)} for m, p in modules().items()}


def id_encoding_breaches(graph: dict[str, set[str]]) -> list[str]:
    return [
        f"{module} imports {target}"
        for module, imported in sorted(graph.items())
        if layer_of(module) not in {"app.schema", "app.http"} and module not in {*ENCODES_IDS_ALSO, "app.ids"}
        for target in sorted(imported & ENCODERS)
    ]


def test_only_the_schema_and_the_edge_encode_global_ids():
    assert id_encoding_breaches(name_imports()) == []


def test_every_listed_id_encoder_encodes():
    graph = name_imports()
    assert sorted(m for m in ENCODES_IDS_ALSO if not graph[m] & ENCODERS) == []


@pytest.mark.parametrize(
    ("module", "target"),
    [("app.operations.notes", "app.ids.encode_id"), ("app.live.publish", "app.ids.with_global_ids")],
)
def test_an_id_encoding_breach_is_caught(module, target):
    graph = name_imports()
    assert target not in graph[module]
    graph[module] = graph[module] | {target}
    assert id_encoding_breaches(graph) == [f"{module} imports {target}"]


@pytest.mark.parametrize(
    ("module", "target"),
    [
        ("app.operations.attendance", "app.schema.root"),
        ("app.rules.billing", "app.db.models"),
        ("app.db.queries.sessions", "app.operations.sessions"),
    ],
)
def test_a_layering_breach_is_caught(module, target):
    graph = app_imports()
    graph[module] = graph[module] | {target}
    assert breaches(graph, layer_of(module)) == [f"{module} imports {target}"]


def test_a_foundation_breach_is_caught():
    graph = app_imports()
    graph["app.auth"] = graph["app.auth"] | {"app.live.hub"}
    assert foundation_breaches(graph) == ["app.auth imports app.live.hub"]
