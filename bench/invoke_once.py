"""One cold start, in the fresh interpreter bench/coldstart.py starts: import a handler, invoke it once.

    python -I -S bench/invoke_once.py CODE_DIR PATH MODULE.FUNCTION EVENT_JSON REPORT_JSON FUNCTION_ARN

``PATH`` is the folders after the function's code on ``sys.path`` (``os.pathsep`` between them): the
layer's, then the runtime's packages, as Lambda's python3.13 orders them; with ``-S`` nothing else
(no site-packages) is there. Only the standard library is imported before the timer starts (the
event is read first: Lambda's runtime hands the handler a parsed event). The report holds the import
and first-invoke times, the process's CPU time, its peak resident set, the handler's result (or
error), the top-level packages it imported and where it found the main ones (``ORIGINS``).

Peak memory is the address space's high-water mark (``VmHWM``, Linux): ``ru_maxrss`` of a child
carries its parent's high-water mark across ``exec`` on Linux (the bench, with moto loaded, would
set the floor), so it is read only where ``/proc`` is absent.
"""

import importlib
import json
import os
import resource
import sys
import time
import uuid
from pathlib import Path
from typing import Any


class LambdaContext:
    """The attributes Lambda's context has and Powertools reads."""

    def __init__(self, function_arn: str, timeout_seconds: float = 30.0) -> None:
        function_name = function_arn.rsplit(":", 1)[-1]
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function_arn
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"2026/01/01/[$LATEST]{uuid.uuid4().hex}"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def peak_rss_mb() -> float:
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


ORIGINS = ("boto3", "botocore", "pydantic", "tokenfuse")


def main(argv: list[str]) -> int:
    code_dir, search_path, handler_path, event_path, report_path, function_arn = argv
    event = json.loads(Path(event_path).read_text())
    before = set(sys.modules)
    module_name, _, function = handler_path.rpartition(".")
    started = time.perf_counter()
    sys.path[:0] = [code_dir, *filter(None, search_path.split(os.pathsep))]
    handler = getattr(importlib.import_module(module_name), function)
    imported = time.perf_counter()
    result: Any = None
    error: str | None = None
    try:
        result = handler(event, LambdaContext(function_arn))
    except Exception as exc:  # reported, not raised: the bench says which handler failed and how
        error = f"{type(exc).__name__}: {exc}"
    invoked = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    report = {
        "import_ms": (imported - started) * 1000,
        "invoke_ms": (invoked - imported) * 1000,
        "cpu_ms": (usage.ru_utime + usage.ru_stime) * 1000,
        "peak_rss_mb": peak_rss_mb(),
        "result": result,
        "error": error,
        "packages": sorted({name.partition(".")[0] for name in set(sys.modules) - before}),
        "origins": {name: str(sys.modules[name].__file__) for name in ORIGINS if name in sys.modules},
    }
    Path(report_path).write_text(json.dumps(report, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
