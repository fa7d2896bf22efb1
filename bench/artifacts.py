"""Built artifact sizes: `sam build` for arm64 (the core layer and each function), unzipped and as
the zip Lambda receives, and how many of the core layer's modules ship compiled. Needs `.venv-sam`
(`make venv`) and python3.13 on PATH, as `make build`."""

import importlib.util
import io
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAM = ROOT / ".venv-sam" / "bin" / "sam"
LAYER_SOURCE = ROOT / "layers" / "core"


class NoBytecode(RuntimeError):
    """The built core layer ships modules without their .pyc: every cold start would compile them."""


def build_layer(
    artifacts: Path,
    *,
    platform_tag: str | None = None,
    requirements: Path | None = None,
    python: str = sys.executable,
) -> Path:
    """``make build-CoreLayer`` (``layers/core/Makefile``, what `sam build` runs) into ``artifacts``,
    for ``platform_tag`` (the Makefile's arm64 Lambda one when None, e.g. ``manylinux2014_x86_64``
    to import it on this machine) with ``requirements`` (the layer's own when None); the layer's
    ``python/`` folder."""
    options = [f"ARTIFACTS_DIR={artifacts}", f"PYTHON313={python}"]
    if platform_tag is not None:
        options.append(f"PLATFORM={platform_tag}")
    if requirements is not None:
        options.append(f"REQUIREMENTS={requirements}")
    subprocess.run(
        ["make", "--no-print-directory", "build-CoreLayer", *options],
        cwd=LAYER_SOURCE, check=True, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    return artifacts / "python"


def host_platform_tag() -> str:
    """The manylinux tag of this machine, for a layer the bench imports here."""
    return f"manylinux2014_{platform.machine()}"


def compiled(folder: Path) -> tuple[int, int]:
    """(modules, modules with the .pyc this interpreter reads) of a folder of Python sources."""
    sources = list(folder.rglob("*.py"))
    return len(sources), sum(Path(importlib.util.cache_from_source(str(s))).is_file() for s in sources)


def _sizes(folder: Path) -> tuple[int, int]:
    """(bytes unzipped, bytes zipped with deflate) of a folder."""
    raw = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(folder))
    return raw, buffer.tell()


def run() -> str:
    if not SAM.exists():
        return "Not measured: `.venv-sam` is missing (run `make venv`)."
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for part in ("template.yaml", "layers", "functions", "statemachines"):
            source = ROOT / part
            if source.is_dir():
                shutil.copytree(source, work / part, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(source, work / part)
        env = {
            **os.environ,
            "SAM_CLI_TELEMETRY": "0",
            "PYENV_VERSION": os.environ.get("PYENV_VERSION", "3.11.7:3.13.0"),
        }
        command = [str(SAM), "build", "--template", "template.yaml"]
        subprocess.run(command, cwd=work, env=env, check=True, capture_output=True)
        build = work / ".aws-sam" / "build"
        rows = []
        for artifact in sorted(p for p in build.iterdir() if p.is_dir()):
            raw, zipped = _sizes(artifact)
            rows.append(f"| {artifact.name} | {raw / 1e3:,.1f} | {zipped / 1e3:,.1f} |")
        described = [
            subprocess.run(["file", str(so)], check=False, capture_output=True, text=True).stdout
            for so in build.rglob("*.so")
        ]
        machines = {line.split(",")[1].strip() for line in described if "," in line}
        modules, with_bytecode = compiled(build / "CoreLayer" / "python")
        if with_bytecode < modules:
            missing = modules - with_bytecode
            raise NoBytecode(f"the core layer ships {missing} of {modules} modules without .pyc")
    return "\n".join(
        [
            "`sam build` (arm64) of the template: the core layer (`layers/core/Makefile`) and each "
            "function (python3.13), unzipped and deflate-zipped (what Lambda's 250 MB unzipped / 50 MB "
            "zipped limits apply to).",
            f"Native extensions in the build are: {', '.join(sorted(machines)) or 'none'}.",
            f"The core layer's Python modules: {modules:,}, of which {with_bytecode:,} ship their "
            "unchecked-hash .pyc (`layers/core/Makefile`; the bench stops when one is missing).",
            "",
            "| artifact | KB unzipped | KB zipped |",
            "|---|---:|---:|",
            *rows,
        ]
    )
