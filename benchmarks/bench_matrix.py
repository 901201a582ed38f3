"""Time parse + build of the matrix from data/sources, loading the shipped file, and what learning
one release from its wheels costs over a local server that honours HTTP Range."""

from __future__ import annotations

import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from _timing import report, time_call  # noqa: E402
from rangeserver import RangeServer  # noqa: E402
from test_matrix_learn import torch_like_wheel  # noqa: E402

from torchsetup.matrix.build import build_matrix  # noqa: E402
from torchsetup.matrix.learn import peek  # noqa: E402
from torchsetup.matrix.sources import collect  # noqa: E402
from torchsetup.matrix.store import load_matrix  # noqa: E402
from torchsetup.matrix.wheelpeek import RangeReader  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def learning() -> None:
    server = RangeServer()
    wheels = sorted(Path("/opt/wheels").glob("torch-2.13.0+cpu-*.whl"))
    with tempfile.TemporaryDirectory() as tmp:
        wheels.append(torch_like_wheel(Path(tmp), "2.16.0", "13.2", "manylinux_2_28_x86_64", filler=12000))
        for wheel in wheels:
            url = server.add(f"/files/{wheel.name}", wheel)
            found = peek(url, wheel.name, "linux-x86_64", RangeReader(url, allow_insecure=True))
            size = found.size or 1
            print(f"learn {wheel.name[:44]:<44} {found.requests} requests, {found.bytes_read:>9,} bytes "
                  f"of {size:>11,} ({100 * found.bytes_read / size:.2f} %; target <= 1.5 MB)"
                  f"  -> {found.version}, cuda {found.cuda}")
    server.stop()


def main() -> None:
    now = datetime.now(timezone.utc).isoformat()
    specs = [str(REPO / "data" / "sources")]
    report("parse + build (data/sources)", time_call(lambda: build_matrix(collect(specs), now), runs=10),
           target_ms=100)
    report("load + validate data/compat_matrix.json", time_call(load_matrix), target_ms=20)
    learning()


if __name__ == "__main__":
    main()
