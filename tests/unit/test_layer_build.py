"""The core layer ships compiled bytecode: Lambda's /opt is read-only, so a layer without .pyc makes
every cold start compile every module it imports. `sam build` runs ``layers/core/Makefile``'s
``build-CoreLayer`` (template.yaml: ``BuildMethod: makefile``); here that recipe runs for real
(with no requirements, so no wheel is fetched and it takes about a second) and every tokenfuse
module must come out with a .pyc Lambda's Python 3.13 reads without checking the source's mtime."""

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.artifacts import build_layer, compiled
from tokenfuse_sandbox.template import load_yaml

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "core"
UNCHECKED_HASH = 0b01
"""The .pyc flags word (PEP 552): bit 0 = hash-based, bit 1 = check the source; unchecked is 0b01."""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("layer")
    requirements = work / "requirements.txt"
    requirements.write_text("")
    return build_layer(work / "artifacts", requirements=requirements)


def test_the_template_builds_the_core_layer_with_its_makefile_for_arm64():
    layer = load_yaml(ROOT / "template.yaml")["Resources"]["CoreLayer"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    assert (ROOT / layer["Properties"]["ContentUri"] / "Makefile").is_file()


def test_every_module_of_the_layer_ships_with_bytecode_lambda_reads_as_is(built: Path):
    sources = sorted((LAYER / "tokenfuse").rglob("*.py"))
    assert len(sources) > 100  # the whole package, not a corner of it
    for source in sources:
        shipped = built / source.relative_to(LAYER)
        assert shipped.read_bytes() == source.read_bytes(), shipped
        cached = Path(importlib.util.cache_from_source(str(shipped)))
        assert cached.is_file(), f"no bytecode for {source.relative_to(LAYER)}"
        header = cached.read_bytes()[:16]
        assert header[:4] == importlib.util.MAGIC_NUMBER, cached
        assert int.from_bytes(header[4:8], "little") == UNCHECKED_HASH, cached
        assert header[8:16] == importlib.util.source_hash(source.read_bytes()), cached


def test_the_layer_holds_no_bytecode_of_the_working_tree_and_no_console_scripts(built: Path):
    # every .pyc is a compiled module of the build (none carried over from a developer's __pycache__)
    for cached in built.rglob("*.pyc"):
        assert int.from_bytes(cached.read_bytes()[4:8], "little") == UNCHECKED_HASH, cached
    assert not (built / "bin").exists()
    assert sorted(p.name for p in built.iterdir()) == ["tokenfuse"]


def test_the_artifacts_bench_counts_modules_without_bytecode(built: Path, tmp_path: Path):
    # Given the built layer (every module compiled) and a copy of it with one .pyc removed
    modules, with_bytecode = compiled(built)
    assert modules == with_bytecode == len(list((LAYER / "tokenfuse").rglob("*.py")))
    copy = tmp_path / "python"
    shutil.copytree(built, copy)
    Path(importlib.util.cache_from_source(str(copy / "tokenfuse" / "clock.py"))).unlink()
    # Then the count says one module ships without it
    assert compiled(copy) == (modules, modules - 1)


def test_the_recipe_installs_the_requirements_as_lambdas_arm64_python_313_runs_them():
    # `make -n` prints the recipe as `sam build` would run it, with the real requirements file
    recipe = subprocess.run(
        ["make", "--no-print-directory", "-n", "build-CoreLayer", "ARTIFACTS_DIR=/tmp/artifacts"],
        cwd=LAYER, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    pip = " ".join(recipe.split("\\\n"))
    for option in ("-m pip install", "--no-compile", '--target "/tmp/artifacts/python"',
                   "--platform manylinux2014_aarch64", "--implementation cp", "--python-version 3.13",
                   "--only-binary=:all:", "-r requirements.txt"):  # fmt: skip
        assert option in pip, option
    assert "-m compileall -q -j0 --invalidation-mode unchecked-hash" in recipe
