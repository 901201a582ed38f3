"""Time one resolution over the whole matrix in-process, and a 1,000-machine fleet."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _timing import report, time_call  # noqa: E402

from torchsetup.matrix import load_matrix  # noqa: E402
from torchsetup.probe.model import machine_from_document  # noqa: E402
from torchsetup.resolve import Request, resolve  # noqa: E402

PROBES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "probes"


def main() -> None:
    matrix = load_matrix()
    one = machine_from_document(json.loads((PROBES / "rtx5090-570.json").read_text()), "rtx5090")
    report("resolve: RTX 5090, driver 570 (newest fit 2.11)", time_call(lambda: resolve([one], matrix, Request())),
           target_ms=5)
    k80 = machine_from_document(json.loads((PROBES / "k80-470.json").read_text()), "k80")
    report("resolve: K80, driver 470 (walks back to 2.7)", time_call(lambda: resolve([k80], matrix, Request())),
           target_ms=5)
    rng = random.Random(7)
    names = ["rtx5090-570", "h100-node", "wsl2-4090", "py314t-h100"]
    docs = {n: json.loads((PROBES / f"{n}.json").read_text()) for n in names}
    fleet = []
    for i in range(1000):
        doc = json.loads(json.dumps(docs[rng.choice(names)]))
        doc["nvidia"]["driver_version"] = rng.choice(["570.133.07", "575.57.08", "580.65.06"])
        doc["nvidia"]["cuda_driver_version"] = {"570.133.07": "12.8", "575.57.08": "12.9",
                                                "580.65.06": "13.0"}[doc["nvidia"]["driver_version"]]
        fleet.append(machine_from_document(doc, f"node{i}"))
    result = resolve(fleet, matrix, Request())
    print(f"fleet plan: {result.plan.torch} {result.plan.variant}" if result.plan else f"fleet: {result.error}")
    report("resolve: 1,000-machine fleet", time_call(lambda: resolve(fleet, matrix, Request()), runs=5),
           target_ms=1000)


if __name__ == "__main__":
    main()
