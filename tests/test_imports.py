"""Imports run one way: no module of the project imports one that imports it back, however indirectly."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = 'Proj_123456_654321'


def module_names():
    """Dotted name -> path of every module of the package."""
    modules = {}
    for path in (ROOT / PACKAGE).rglob('*.py'):
        parts = path.relative_to(ROOT).with_suffix('').parts
        modules['.'.join(parts[:-1] if parts[-1] == '__init__' else parts)] = path
    return modules


def imported(name, path, modules):
    """The package's modules that the module ``name`` imports (``from . import x`` counts as module ``x``)."""
    package = name if path.name == '__init__.py' else name.rsplit('.', 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parents = package.split('.')[:len(package.split('.')) - node.level + 1]
                base = '.'.join(parents + ([base] if base else []))
            found.update(f'{base}.{alias.name}' if f'{base}.{alias.name}' in modules else base
                         for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {module for module in found if module in modules and module != name}


def import_graph():
    modules = module_names()
    return {name: imported(name, path, modules) for name, path in modules.items()}


def cycles(graph):
    """Each cycle once, as a list of modules that ends where it starts."""
    found = {}
    for start in graph:
        stack = [[start]]
        while stack:
            path = stack.pop()
            for following in graph[path[-1]]:
                if following == start:
                    found.setdefault(frozenset(path), path + [start])
                elif following not in path:
                    stack.append(path + [following])
    return list(found.values())


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': {'a'}}) == [['a', 'b', 'c', 'a']]
    assert cycles({'a': {'b'}, 'b': set()}) == []


def test_the_graph_sees_relative_imports():
    graph = import_graph()
    assert f'{PACKAGE}.Miniproject_2.others.data' in graph[f'{PACKAGE}.Miniproject_2.others.continued']
    assert f'{PACKAGE}.Miniproject_2.model' in graph[f'{PACKAGE}.Miniproject_2.others.twin']


def test_no_module_imports_one_that_imports_it_back():
    assert cycles(import_graph()) == []
