"""The lpr package: a lazy public API, inference apart from training, and no import cycle between its modules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import lpr

LPR = Path(lpr.__file__).resolve().parent
SAMPLE = Path(__file__).resolve().parent.parent / "datasets" / "samples" / "scenes" / "scene-02.jpg"


def module_name(path: Path) -> str:
    parts = path.relative_to(LPR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(path: Path) -> set[str]:
    """A module's file in, the lpr modules it imports at its top level, for type checkers included (not inside functions) out."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    body = ast.parse(path.read_text()).body
    nodes = body + [n for node in body if isinstance(node, ast.If) for n in node.body]
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            candidates = [target] + [f"{target}.{alias.name}" for alias in node.names]
            found.update(c for c in candidates if c.startswith("lpr"))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("lpr"))
    return found


def test_no_import_cycle_between_lpr_modules():
    files = {module_name(p): p for p in LPR.rglob("*.py")}
    graph = {name: {t for t in top_level_imports(path) if t in files and t != name} for name, path in files.items()}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        assert name not in visiting, f"import cycle: {' -> '.join(visiting[visiting.index(name):] + [name])}"
        visiting.append(name)
        for target in sorted(graph[name]):
            visit(target)
        visiting.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)
    assert len(done) > 15


def test_inference_never_imports_training_or_scikit_learn():
    for path in LPR.rglob("*.py"):
        imported = top_level_imports(path)
        assert not any(name.startswith("lpr.training") for name in imported), path
        assert "sklearn" not in path.read_text() or path.name == "__init__.py", path
    code = (
        "import sys, lpr; assert 'cv2' not in sys.modules and 'numpy' not in sys.modules, 'import lpr loaded the stages';"
        f"plates = lpr.Recognizer().recognize(lpr.read_image({str(SAMPLE)!r}));"
        "assert plates, 'no plate read';"
        "assert not [m for m in sys.modules if m.startswith(('sklearn', 'lpr.training', 'skimage'))], 'recognition loaded training code'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_public_name_resolves():
    for name in lpr.__all__:
        assert getattr(lpr, name) is not None, name
    assert "Recognizer" in dir(lpr)
