"""`python -m bench [SECTION ...]`: run the benchmarks and write their sections of bench/RESULTS.md.

Each section is a function returning markdown; its section in RESULTS.md (``## <name>``) is
replaced, the others are kept. Register new sections in ``SECTIONS``.
"""

import datetime as dt
import os
import platform
import sys
from collections.abc import Callable
from importlib import import_module
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")

SECTIONS: dict[str, str] = {
    "Attribution": "bench.attribution:run",
    "Inventory": "bench.inventory:run",
    "Demo: time to contain": "bench.demo:containment",
    "Demo: signal storm": "bench.demo:storm",
    "Cold start": "bench.coldstart:run",
    "Artifacts": "bench.artifacts:run",
    "Fast path: invocation-log meter": "bench.fastpath:run",
}
"""Section heading -> "module:function" returning the section's markdown."""


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return (
        f"{platform.system()} {platform.release()} {platform.machine()} ({cpu}), "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    )


def _load(target: str) -> Callable[[], str]:
    module, _, function = target.partition(":")
    runner: Callable[[], str] = getattr(import_module(module), function)
    return runner


def replace_section(text: str, name: str, body: str) -> str:
    heading = f"## {name}"
    lines = text.splitlines()
    block = [heading, "", body.rstrip(), ""]
    if heading not in lines:
        return "\n".join([*lines, "", *block]).lstrip("\n").rstrip() + "\n"
    start = lines.index(heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join([*lines[:start], *block, *lines[end:]]).rstrip() + "\n"


def main(argv: list[str]) -> int:
    names = argv or list(SECTIONS)
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        print(f"unknown section(s): {', '.join(unknown)}; known: {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    text = (
        RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\nWritten by `python -m bench`.\n"
    )
    for name in names:
        print(f"running {name} ...", file=sys.stderr)
        body = _load(SECTIONS[name])()
        stamp = f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine()}."
        text = replace_section(text, name, f"{stamp}\n\n{body}")
        print(body)
    RESULTS.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
