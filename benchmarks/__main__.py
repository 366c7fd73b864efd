"""Run one benchmark and print its measurements as JSON: ``python -m benchmarks NAME [KEY=VALUE ...]``.

KEY=VALUE pairs override the benchmark's keyword arguments (integers, floats,
true/false), for example ``python -m benchmarks throughput count=500 tls=true``.
"""

from __future__ import annotations

import json
import platform
import sys
from typing import Any

from benchmarks.bench import BENCHMARKS


def _value(text: str) -> Any:
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in BENCHMARKS:
        sys.stderr.write(f"usage: python -m benchmarks {{{','.join(BENCHMARKS)}}} [KEY=VALUE ...]\n")
        return 2
    options = dict(item.split("=", 1) for item in argv[1:])
    result = BENCHMARKS[argv[0]](**{key: _value(value) for key, value in options.items()})
    python = f"{platform.python_implementation()} {platform.python_version()}"
    result["machine"] = f"{platform.machine()}, {python}"
    sys.stdout.write(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
