"""Time parse + build of the matrix from the reference copies, and loading the shipped file."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _timing import report, time_call  # noqa: E402

from torchsetup.matrix.build import build_matrix  # noqa: E402
from torchsetup.matrix.sources import collect  # noqa: E402
from torchsetup.matrix.store import load_matrix  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO.parent / "shared" / "reference"


def main() -> None:
    specs = [str(REFERENCE), str(REPO / "data" / "sources" / "pypi")]
    if REFERENCE.is_dir():
        now = datetime.now(timezone.utc).isoformat()
        report("parse + build (reference + PyPI copies)",
               time_call(lambda: build_matrix(collect(specs), now), runs=10), target_ms=100)
    else:
        print(f"parse + build: skipped, {REFERENCE} not present")
    report("load + validate data/compat_matrix.json", time_call(load_matrix), target_ms=20)


if __name__ == "__main__":
    main()
