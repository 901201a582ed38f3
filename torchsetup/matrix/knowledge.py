"""Knowledge tables, transcribed row by row from the files in data/sources/, each row naming its
source and that source's own confidence.

These rows are copied into data/compat_matrix.json by `build`; at run time only the JSON is read,
so there is one copy of every table. The GPU arch lists are in `archlists.py`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DriverMinimumRow:
    """The oldest driver for the cuXYZ wheels whose name starts with `prefix`."""

    prefix: str
    linux: str
    windows: str
    source: str


@dataclass(frozen=True)
class ToolkitDriverRow:
    """The driver shipped with a CUDA toolkit's GA release (None: not published for that OS)."""

    cuda: str
    linux: str
    windows: str | None


@dataclass(frozen=True)
class PypiBuildRow:
    """What a plain `pip install torch==X` gets on one platform, for the torch minors listed."""

    torch: tuple[str, ...]
    platform: str
    build: str
    confidence: str
    source: str


@dataclass(frozen=True)
class CompanionRow:
    """A companion pairing no page, pin or upload time establishes."""

    torch: str
    package: str
    companion: str
    confidence: str
    source: str

DRIVER_TABLE = "cuda-driver-table.md"
MEASURED = "pypi-builds-and-arch-lists.md"
COMPANION_EVIDENCE = "companion-evidence.md"

# Minimum driver a cuXYZ wheel needs (Table A1/A3; minor-version compatibility from CUDA 11.1 on;
# before CUDA 11 a wheel needs the driver of its own toolkit, Table A6 for 8.0-9.2).
DRIVER_MINIMUMS: tuple[DriverMinimumRow, ...] = (
    DriverMinimumRow(prefix="cu13", linux="580", windows="580",
                     source=f"{DRIVER_TABLE} A1 (13.x >= 580: RN-13.2U2 Table 2, RN-13.4U1, MVC)"),
    DriverMinimumRow(prefix="cu12", linux="525.60.13", windows="528.33",
                     source=f"{DRIVER_TABLE} A1 (12.x; 525.60.13 / 528.33 per note 1)"),
    DriverMinimumRow(prefix="cu11", linux="450.80.02", windows="452.39",
                     source=f"{DRIVER_TABLE} A1 (11.x minor compat, RN-13.4U1)"),
    DriverMinimumRow(prefix="cu110", linux="450.51.05", windows="451.48",
                     source=f"{DRIVER_TABLE} A1 (11.0.2 GA, RN-13.2U2 Table 3)"),
    DriverMinimumRow(prefix="cu102", linux="440.33", windows="441.22",
                     source=f"{DRIVER_TABLE} A1 (10.2, MVC Table 2)"),
    DriverMinimumRow(prefix="cu101", linux="418.39", windows="418.96",
                     source=f"{DRIVER_TABLE} A1 (10.1, MVC Table 2)"),
    DriverMinimumRow(prefix="cu100", linux="410.48", windows="411.31",
                     source=f"{DRIVER_TABLE} A1 (10.0, MVC Table 2)"),
    DriverMinimumRow(prefix="cu92", linux="396.37", windows="398.26",
                     source=f"{DRIVER_TABLE} A6 (9.2.148 Update 1, the safe minimum)"),
    DriverMinimumRow(prefix="cu90", linux="384.81", windows="385.54", source=f"{DRIVER_TABLE} A6 (9.0.76)"),
    DriverMinimumRow(prefix="cu80", linux="375.26", windows="376.51", source=f"{DRIVER_TABLE} A6 (8.0.61 GA2)"),
)

# Driver shipped with each toolkit GA (Table A2, A6): a driver at least this new fully supports X.Y.
# Used only when the driver's own CUDA version (NVML / nvidia-smi) is unknown.
TOOLKIT_DRIVERS: tuple[ToolkitDriverRow, ...] = (
    ToolkitDriverRow(cuda="13.2", linux="595.45.04", windows=None),
    ToolkitDriverRow(cuda="13.1", linux="590.44.01", windows=None),
    ToolkitDriverRow(cuda="13.0", linux="580.65.06", windows=None),
    ToolkitDriverRow(cuda="12.9", linux="575.51.03", windows="576.02"),
    ToolkitDriverRow(cuda="12.8", linux="570.26", windows="570.65"),
    ToolkitDriverRow(cuda="12.6", linux="560.28.03", windows="560.76"),
    ToolkitDriverRow(cuda="12.5", linux="555.42.02", windows="555.85"),
    ToolkitDriverRow(cuda="12.4", linux="550.54.14", windows="551.61"),
    ToolkitDriverRow(cuda="12.3", linux="545.23.06", windows="545.84"),
    ToolkitDriverRow(cuda="12.2", linux="535.54.03", windows="536.25"),
    ToolkitDriverRow(cuda="12.1", linux="530.30.02", windows="531.14"),
    ToolkitDriverRow(cuda="12.0", linux="525.60.13", windows="527.41"),
    ToolkitDriverRow(cuda="11.8", linux="520.61.05", windows="520.06"),
    ToolkitDriverRow(cuda="11.7", linux="515.43.04", windows="516.01"),
    ToolkitDriverRow(cuda="11.6", linux="510.39.01", windows="511.23"),
    ToolkitDriverRow(cuda="11.5", linux="495.29.05", windows="496.04"),
    ToolkitDriverRow(cuda="11.4", linux="470.42.01", windows="471.11"),
    ToolkitDriverRow(cuda="11.3", linux="465.19.01", windows="465.89"),
    ToolkitDriverRow(cuda="11.2", linux="460.27.03", windows="460.82"),
    ToolkitDriverRow(cuda="11.1", linux="455.23", windows="456.38"),
    ToolkitDriverRow(cuda="11.0", linux="450.51.05", windows="451.48"),
    ToolkitDriverRow(cuda="10.2", linux="440.33", windows="441.22"),
    ToolkitDriverRow(cuda="10.1", linux="418.39", windows="418.96"),
    ToolkitDriverRow(cuda="10.0", linux="410.48", windows="411.31"),
    ToolkitDriverRow(cuda="9.2", linux="396.37", windows="398.26"),
    ToolkitDriverRow(cuda="9.0", linux="384.81", windows="385.54"),
    ToolkitDriverRow(cuda="8.0", linux="375.26", windows="376.51"),
)
TOOLKIT_DRIVERS_SOURCE = f"{DRIVER_TABLE} A2 (RN-13.2U2 Table 3, GA rows) and A6 (before 10.0)"

# What a plain `pip install torch==X` gets from PyPI, per platform, measured from torch/version.py
# and METADATA inside the wheels (pypi-builds-and-arch-lists.md §1a-1c). "2.1" = every 2.1.x the
# index has wheels of for that platform.
MEASURED_FROM_WHEEL = "high (measured from the wheel)"
PYPI_BUILDS: tuple[PypiBuildRow, ...] = (
    PypiBuildRow(torch=("1.0", "1.1"), platform="linux-x86_64", build="cu90", confidence=MEASURED_FROM_WHEEL,
                 source=f"{MEASURED} §1a/1b (cuda '9.0.176')"),
    PypiBuildRow(torch=("1.2",), platform="linux-x86_64", build="cu100", confidence=MEASURED_FROM_WHEEL,
                 source=f"{MEASURED} §1a/1b (cuda '10.0.130')"),
    PypiBuildRow(torch=("1.3", "1.4"), platform="linux-x86_64", build="cu101", confidence=MEASURED_FROM_WHEEL,
                 source=f"{MEASURED} §1a/1b (cuda '10.1.243' / '10.1')"),
    PypiBuildRow(torch=("1.5", "1.6", "1.7", "1.8", "1.9", "1.10", "1.11", "1.12"), platform="linux-x86_64",
                 build="cu102", confidence=MEASURED_FROM_WHEEL, source=f"{MEASURED} §1a/1b (cuda '10.2')"),
    PypiBuildRow(torch=("1.13", "2.0"), platform="linux-x86_64", build="cu117", confidence=MEASURED_FROM_WHEEL,
                 source=f"{MEASURED} §1a/1b (+cu117, nvidia-*-cu11==11.7.99)"),
    PypiBuildRow(torch=("2.1", "2.2", "2.3", "2.4"), platform="linux-x86_64", build="cu121",
                 confidence=MEASURED_FROM_WHEEL,
                 source=f"{MEASURED} §1a/1b (+cu121, nvidia-cuda-runtime-cu12==12.1.105)"),
    PypiBuildRow(torch=("2.5", "2.6"), platform="linux-x86_64", build="cu124", confidence=MEASURED_FROM_WHEEL,
                 source=f"{MEASURED} §1a/1b (+cu124, ==12.4.127)"),
    PypiBuildRow(torch=("2.7",), platform="linux-x86_64", build="cu126", confidence=MEASURED_FROM_WHEEL,
                 source=f"{MEASURED} §1a/1b (+cu126, ==12.6.77)"),
    PypiBuildRow(torch=("2.8", "2.9", "2.10"), platform="linux-x86_64", build="cu128",
                 confidence=MEASURED_FROM_WHEEL,
                 source=f"{MEASURED} §1a/1b (+cu128, ==12.8.90)"),
    PypiBuildRow(torch=("2.11", "2.12", "2.13", "2.14"), platform="linux-x86_64", build="cu130",
                 confidence=MEASURED_FROM_WHEEL,
                 source=f"{MEASURED} §1a/1b (+cu130, cuda-toolkit==13.0.2 / 13.0.3; §6.1: not cu132)"),
    PypiBuildRow(torch=("2.15",), platform="linux-x86_64", build="cu132", confidence=MEASURED_FROM_WHEEL,
                 source=f"{MEASURED} §1a/1b (+cu132, cuda-toolkit==13.2.2)"),
    PypiBuildRow(torch=("1.7", "1.8", "1.9", "1.10", "1.11", "1.12", "1.13", "2.0", "2.1", "2.2", "2.3", "2.4",
                        "2.5", "2.6", "2.7", "2.8", "2.9", "2.10", "2.11", "2.12", "2.13", "2.14", "2.15"),
                 platform="windows-x86_64", build="cpu", confidence=MEASURED_FROM_WHEEL,
                 source=f"{MEASURED} §1a/1c (every Windows wheel on PyPI is X+cpu)"),
    PypiBuildRow(torch=("1.8", "1.9", "1.10", "1.11", "1.12", "1.13", "2.0", "2.1", "2.2", "2.3", "2.4", "2.5",
                        "2.6", "2.7", "2.8", "2.9", "2.10"),
                 platform="linux-aarch64", build="cpu",
                 confidence=MEASURED_FROM_WHEEL, source=f"{MEASURED} §1a/1c (cuda None)"),
    PypiBuildRow(torch=("2.11", "2.12", "2.13", "2.14"), platform="linux-aarch64", build="cu130",
                 confidence=MEASURED_FROM_WHEEL, source=f"{MEASURED} §1a/1c (+cu130)"),
    PypiBuildRow(torch=("2.15",), platform="linux-aarch64", build="cu132", confidence=MEASURED_FROM_WHEEL,
                 source=f"{MEASURED} §1a/1c (+cu132)"),
)
# macOS wheels have no CUDA (MPS on Apple silicon): whatever the index has is the macOS build.
MACOS_BUILD_SOURCE = "torch.simple (macOS wheels on the package index; no CUDA on macOS)"

# Companion pairs the page, the wheels' own pins and the upload times do not establish
# (companion-evidence.md).
COMPANIONS: tuple[CompanionRow, ...] = (
    CompanionRow(torch="1.3.0", package="torchaudio", companion="0.3.1",
                 confidence="low (uploaded 7 days after torch)",
                 source=f"{COMPANION_EVIDENCE} same-day pairing table"),
    CompanionRow(torch="1.3.1", package="torchaudio", companion="0.3.2",
                 confidence="low (uploaded 2 months after torch; unverified)",
                 source=f"{COMPANION_EVIDENCE} same-day pairing table"),
)
# Hours between a torch release's first upload and a companion's for the two to pair by upload time.
UPLOAD_PAIRING_HOURS = 6.0

# Variants a minor release shipped on the PyTorch index, for releases no page or selector covers.
SHIPPED_CUDA: dict[str, tuple[str, ...]] = {"2.14": ("cu126", "cu130", "cu132", "cpu")}
SHIPPED_CUDA_CONFIDENCE = "medium (REL-md 'Release Compatibility Matrix', 3rd-party copy)"


@dataclass(frozen=True)
class XpuRow:
    """The XPU builds on https://download.pytorch.org/whl/xpu for the torch minors listed."""

    torch: tuple[str, ...]
    platforms: tuple[str, ...]  # linux-x86_64, windows-x86_64
    companions_on: tuple[str, ...]  # where torchvision and torchaudio have XPU builds too
    confidence: str
    source: str


XPU_INDEX = "https://download.pytorch.org/whl/xpu"
_XPU = "rocm-xpu.md §5"
XPU_BUILDS = (
    XpuRow(torch=("2.5",), platforms=("linux-x86_64", "windows-x86_64"), companions_on=("linux-x86_64",),
           confidence="high (docs)", source=f"{_XPU} (docs.pytorch.org/docs/2.5 get_start_xpu: torch only on "
           "Windows)"),
    XpuRow(torch=("2.6", "2.7"), platforms=("linux-x86_64", "windows-x86_64"),
           companions_on=("linux-x86_64", "windows-x86_64"), confidence="high (docs)",
           source=f"{_XPU} (docs 2.6 and 2.7 get_start_xpu; generate_binary_build_matrix.py @00018c94)"),
    XpuRow(torch=("2.8", "2.9", "2.10", "2.11"), platforms=("linux-x86_64", "windows-x86_64"),
           companions_on=("linux-x86_64", "windows-x86_64"), confidence="medium (inferred)",
           source=f"{_XPU} (inferred: 2.13 docs 'ready from PyTorch 2.5'; uv's docs pin torch>=2.11 from the xpu "
           "index on linux and win32)"),
    XpuRow(torch=("2.12", "2.13"), platforms=("linux-x86_64", "windows-x86_64"),
           companions_on=("linux-x86_64", "windows-x86_64"), confidence="high (docs)",
           source=f"{_XPU} (docs.pytorch.org/docs/2.12 and stable get_start_xpu)"),
)


@dataclass(frozen=True)
class GfxRow:
    """The gfx targets the ROCm builds named carry for the torch minors listed (PYTORCH_ROCM_ARCH, what
    `get_arch_list()` prints); no wheel was opened to measure them."""

    torch: tuple[str, ...]  # torch minors, "2.7"
    variants: tuple[str, ...]  # rocm6.2.4, rocm6.3
    gfx: tuple[str, ...]
    source: str
    confidence: str


_G5 = ("gfx900", "gfx906", "gfx908", "gfx90a", "gfx1030")
_G7 = (*_G5[:4], "gfx1030", "gfx1100", "gfx942")
_G8 = ("gfx900", "gfx906", "gfx908", "gfx90a", "gfx942", "gfx1030", "gfx1100", "gfx1101")
_G11 = (*_G8, "gfx1102", "gfx1200", "gfx1201")
_G14 = ("gfx900", "gfx906", "gfx908", "gfx90a", "gfx942", "gfx950", "gfx1030", "gfx1100", "gfx1101", "gfx1102",
        "gfx1150", "gfx1151", "gfx1200", "gfx1201")
_COMMON_214 = ("gfx908", "gfx90a", "gfx942", "gfx950", "gfx1030", "gfx1100", "gfx1101", "gfx1102", "gfx1103",
               "gfx1200", "gfx1201", "gfx1150", "gfx1151")
_REF = "rocm-xpu.md §2"

GFX_ROWS = (
    GfxRow(torch=("2.0",), variants=("rocm5.3", "rocm5.4.2"), gfx=_G5, source=f"{_REF} (BLD-2.0)",
           confidence="medium (script)"),
    GfxRow(torch=("2.1", "2.2"), variants=("rocm5.5", "rocm5.6", "rocm5.7"), gfx=(*_G5, "gfx1100"),
           source=f"{_REF} (BLD-2.1/2.2 build_docker.sh)", confidence="medium (script)"),
    GfxRow(torch=("2.3",), variants=("rocm5.7",), gfx=(*_G5, "gfx1100"), source=f"{_REF} (BLD-2.3)",
           confidence="medium (script)"),
    GfxRow(torch=("2.3",), variants=("rocm6.0",), gfx=(*_G5, "gfx1100", "gfx942"), source=f"{_REF} (BLD-2.3)",
           confidence="medium (script)"),
    GfxRow(torch=("2.4",), variants=("rocm6.0", "rocm6.1"), gfx=_G7,
           source=f"{_REF} (BLD-2.4; 2.4.1+rocm6.0 measured)", confidence="high (6.0 measured)"),
    GfxRow(torch=("2.5",), variants=("rocm6.1", "rocm6.2"), gfx=_G7,
           source=f"{_REF} (build.sh @1fca82d4; 2.5.1+rocm6.2 measured in uv#14086)", confidence="high"),
    GfxRow(torch=("2.6",), variants=("rocm6.1", "rocm6.2.4"), gfx=_G8, source=f"{_REF} (PR #141667)",
           confidence="medium"),
    GfxRow(torch=("2.7",), variants=("rocm6.2.4", "rocm6.3"), gfx=_G11,
           source=f"{_REF} (PR #147761, #148562; measured in uv#14086)", confidence="high"),
    GfxRow(torch=("2.8", "2.9"), variants=("rocm6.3", "rocm6.4"), gfx=_G11, source=f"{_REF} (HFK → build.sh)",
           confidence="medium"),
    GfxRow(torch=("2.10",), variants=("rocm7.0", "rocm7.1"), gfx=_G14, source=f"{_REF} (PR #167299; HFK)",
           confidence="medium-high"),
    GfxRow(torch=("2.11", "2.12"), variants=("rocm7.1", "rocm7.2"), gfx=_G14,
           source=f"{_REF} (HFK; rocm7.2 measured in uv PR #18730)", confidence="high"),
    GfxRow(torch=("2.13",), variants=("rocm7.1", "rocm7.2"), gfx=(*_G14, "gfx1103"),
           source=f"{_REF} (PR #179653, inferred)", confidence="low-medium (inferred)"),
    GfxRow(torch=("2.14",), variants=("rocm7.2",), gfx=("gfx900", "gfx906", *_COMMON_214),
           source=f"{_REF} (build.sh @027375bf, main after 2.14)", confidence="medium"),
    GfxRow(torch=("2.14",), variants=("rocm7.14",), gfx=_COMMON_214,
           source=f"{_REF} (build.sh @027375bf, main after 2.14)", confidence="medium"),
)
