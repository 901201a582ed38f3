"""Properties over generated machines: never a newer driver than the machine has, never missing
kernels, companions always from the same release and variant, the same answer on every run."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from torchsetup import cuda
from torchsetup.matrix import load_matrix
from torchsetup.matrix.store import parse_driver
from torchsetup.probe.model import Gpu, Machine, NvidiaInfo, OSInfo, PythonInfo
from torchsetup.resolve import Request, resolve

MATRIX = load_matrix()
CAPS = ["3.7", "5.0", "5.2", "6.0", "6.1", "7.0", "7.5", "8.0", "8.6", "8.9", "9.0", "10.0", "12.0"]
DRIVERS = [("450.80.02", "11.0"), ("470.182.03", "11.4"), ("525.60.13", "12.0"),
           ("535.104.05", "12.2"), ("550.54.14", "12.4"), ("560.35.03", "12.6"),
           ("570.133.07", "12.8"), ("575.57.08", "12.9"), ("580.65.06", "13.0"),
           ("595.45.04", "13.2")]


@st.composite
def machines(draw: st.DrawFn) -> Machine:
    driver, cuda_version = draw(st.sampled_from(DRIVERS))
    caps = draw(st.lists(st.sampled_from(CAPS), min_size=0, max_size=3))
    py = draw(st.sampled_from(["3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14"]))
    glibc = draw(st.sampled_from(["glibc 2.17", "glibc 2.28", "glibc 2.36"]))
    gpus = tuple(Gpu(index=i, name=f"GPU sm{c}", compute_capability=c) for i, c in enumerate(caps))
    return Machine(
        os=OSInfo(system="Linux", machine="x86_64", libc=glibc, wsl=False, container=False,
                  jetson=False),
        python=PythonInfo(executable="python", version=f"{py}.0", free_threaded=False),
        nvidia=NvidiaInfo(driver if gpus else None, cuda_version if gpus else None,
                          "nvml" if gpus else "none", gpus, None if gpus else "no NVIDIA driver found"),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(machines(), min_size=1, max_size=3), st.booleans())
def test_plan_invariants(fleet: list[Machine], allow_cpu: bool) -> None:
    request = Request(allow_cpu=allow_cpu)
    first = resolve(fleet, MATRIX, request)
    assert resolve(fleet, MATRIX, request) == first  # deterministic
    if not first.ok:
        assert first.error and first.plan is None
        return
    plan = first.plan
    release = MATRIX.by_version[plan.torch]
    variant = next(v for v in release.variants if v.name == plan.variant and v.runs_on("linux-x86_64")
                   and v.index_url == plan.index_url)
    # companions come from that release (and the same variant's pins)
    assert plan.torchvision == (variant.torchvision_pin or release.torchvision).split("+")[0]
    for arg in (a for a in plan.command if "==" in a):
        if variant.form == "pypi" or arg.split("==")[0] in release.pure_companions:
            assert "+" not in arg  # PyPI's own build, or a py3-none companion: no local version
        else:
            assert arg.endswith(f"+{plan.variant}")
    if variant.cuda is None:
        return
    for machine in fleet:
        nv = machine.nvidia
        assert nv is not None
        if not nv.gpus:
            continue
        minimum = cuda.min_driver_for(MATRIX, plan.variant)
        assert minimum is not None
        driver = parse_driver(nv.driver_version)
        assert driver is not None and driver >= minimum.linux_version
        arch = cuda.arch_list_for(MATRIX, plan.torch, plan.variant, "linux-x86_64")
        assert arch is not None
        for gpu in nv.gpus:
            assert gpu.capability is not None and cuda.covers(arch, gpu.capability).ok
