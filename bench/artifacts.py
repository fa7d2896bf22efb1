"""Built artifact sizes: `sam build` for arm64 (the core layer and each function), unzipped and as
the zip Lambda receives. Needs `.venv-sam` (`make venv`) and python3.13 on PATH, as `make build`."""

import io
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAM = ROOT / ".venv-sam" / "bin" / "sam"


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
    return "\n".join(
        [
            "`sam build` (python3.13, arm64) of the template: the core layer and each function, unzipped and"
            " deflate-zipped (what Lambda's 250 MB unzipped / 50 MB zipped limits apply to).",
            f"Native extensions in the build are: {', '.join(sorted(machines)) or 'none'}.",
            "",
            "| artifact | KB unzipped | KB zipped |",
            "|---|---:|---:|",
            *rows,
        ]
    )
