"""``uv pip install`` into a virtual environment, configured the way pip is on this machine.

uv reads no pip configuration, so this hands it pip's own (``pip config list``: index-url,
extra-index-url, find-links, constraint, no-index, cert) and pip's way of choosing among several
indexes (the best version on any of them, ``--index-strategy unsafe-best-match``): both resolve to
the same packages. Like pip, it compiles the installed modules' bytecode. Usage (the Makefile's)::

    python3.13 .ci/uv_pip.py UV VENV [uv pip install arguments...]
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

# pip's precedence, lowest first: a later scope overrides an earlier one for the same key
SCOPES = ("global", "user", "site", ":env:")
LINE = re.compile(r"^(?P<scope>[^.]+)\.(?P<key>[a-z-]+)='(?P<value>.*)'$")
LISTS = {"extra-index-url": "--extra-index-url", "find-links": "--find-links", "constraint": "--constraint"}


def pip_config() -> dict[str, str]:
    """Each key of pip's configuration at its winning scope."""
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=True
    ).stdout
    ranked: dict[str, tuple[int, str]] = {}
    for line in listed.splitlines():
        match = LINE.match(line.strip())
        if match is None or match["scope"] not in SCOPES:
            continue
        rank = SCOPES.index(match["scope"])
        if rank >= ranked.get(match["key"], (-1, ""))[0]:
            ranked[match["key"]] = (rank, match["value"])
    return {key: value for key, (_, value) in ranked.items()}


def uv_options(config: dict[str, str]) -> list[str]:
    options = ["--index-strategy", "unsafe-best-match"]
    if "index-url" in config:
        options += ["--index-url", config["index-url"]]
    if config.get("no-index", "").lower() in ("1", "true", "yes", "on"):
        options.append("--no-index")
    for key, flag in LISTS.items():
        for value in shlex.split(config.get(key, "")):
            options += [flag, value]
    return options


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print("usage: uv_pip.py UV VENV [uv pip install arguments...]", file=sys.stderr)
        return 2
    uv, venv, *arguments = argv
    config = pip_config()
    env = dict(os.environ)
    if "cert" in config:
        env.setdefault("SSL_CERT_FILE", config["cert"])  # uv trusts what pip is told to trust
    # --compile-bytecode: as pip does; where PYTHONDONTWRITEBYTECODE is set, nothing writes them later
    command = [uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", f"{venv}/bin/python"]
    command += uv_options(config)
    # the Makefile's own command line: the uv it installed, the venv it names
    return subprocess.run([*command, *arguments], env=env, check=False).returncode  # noqa: S603


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
