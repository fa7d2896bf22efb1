"""Load a function's handler module the way Lambda does: from its folder, by file, as a new module."""

import importlib.util
import uuid
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load_handler(function: str) -> ModuleType:
    """``functions/<function>/app.py`` as a fresh module (its own caches, nothing shared with a
    previous load)."""
    path = ROOT / "functions" / function / "app.py"
    spec = importlib.util.spec_from_file_location(f"{function}_app_{uuid.uuid4().hex}", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
