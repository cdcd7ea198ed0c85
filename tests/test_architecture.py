"""The package's shape: one folder a stage of the flow, each importing only the stages before it,
no import loop, and the service usable without Gradio."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from qa.settings import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "qa"
# Each stage may import the ground and the stages listed before it.
ORDER = ["ground", "reading", "indexing", "answering", "top", "chat"]
GROUND = {"qa.settings", "qa.errors", "qa.wording"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def stage(module: str) -> str:
    if module in GROUND:
        return "ground"
    parts = module.split(".")
    if len(parts) > 2 or (len(parts) == 2 and (PACKAGE / parts[1]).is_dir()):
        return parts[1]
    return "top"


def imports(path: Path) -> set[str]:
    """Every qa module a file imports, at module level or inside a function."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("qa"):
                continue
            for alias in node.names:  # `from . import store` names a module
                candidate = f"{target}.{alias.name}"
                found.add(candidate if _exists(candidate) else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("qa"))
    found.discard(module)
    return {name for name in found if _exists(name)}


def _exists(module: str) -> bool:
    path = PROJECT_ROOT.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def graph() -> dict[str, set[str]]:
    return {module_name(path): imports(path) for path in PACKAGE.rglob("*.py")}


def test_each_stage_imports_only_the_stages_before_it():
    wrong = []
    for module, targets in graph().items():
        if module in ("qa", "qa.__main__") or module.endswith("__init__") or module.count(".") == 1 and \
                module.split(".")[1] in ("reading", "indexing", "answering", "chat"):
            continue  # the public face and the command line stand above every stage
        for target in targets:
            if ORDER.index(stage(target)) > ORDER.index(stage(module)):
                wrong.append(f"{module} → {target}")
    assert wrong == []


def test_no_import_loop():
    edges = {module: {t for t in targets if t not in ("qa",)} for module, targets in graph().items()
             if module != "qa"}
    state: dict[str, int] = {}
    loops = []

    def visit(module, trail):
        state[module] = 1
        for target in edges.get(module, ()):
            if state.get(target) == 1:
                loops.append(trail[trail.index(target):] + [target] if target in trail else [module, target])
            elif target not in state:
                visit(target, trail + [target])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert loops == []


def test_the_service_loads_neither_gradio_nor_the_page():
    code = "import sys, qa.service; print('gradio' in sys.modules, 'qa.chat.page' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "False"]


def test_app_py_is_only_the_entry_point():
    tree = ast.parse((PROJECT_ROOT / "app.py").read_text(encoding="utf-8"))
    assert not [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    assert {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
            for alias in node.names} <= {"run"}
