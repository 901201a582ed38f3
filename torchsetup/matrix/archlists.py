"""GPU arch lists (TORCH_CUDA_ARCH_LIST) per torch release, variant and platform, each row naming its
source and that source's own confidence. Measured rows (read out of the wheels,
pypi-builds-and-arch-lists.md) win over script rows (torch-arch-lists.md) where both exist.

"2.1" = every 2.1.x; "2.13.0" = that release only. More specific rows come first.
`X.Y` is SASS for sm_XY; `X.Y+PTX` adds PTX compute_XY. A list's name spells it: SM_37P_50_60 is
3.7+PTX;5.0;6.0.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ArchRow:
    """One transcribed arch list: the torch releases ("2.1" = every 2.1.x) and the build it holds for."""

    torch: tuple[str, ...]
    variant: str
    platform: str
    arch: str  # TORCH_CUDA_ARCH_LIST: "7.0;8.0;9.0+PTX"
    confidence: str
    source: str


SCRIPTS = "torch-arch-lists.md"
MEASURED = "pypi-builds-and-arch-lists.md"

SM_35_50P_60_70 = "3.5;5.0+PTX;6.0;7.0"
SM_35_50P_60_61_70 = "3.5;5.0+PTX;6.0;6.1;7.0"
SM_35_50P_60_61_70_75 = "3.5;5.0+PTX;6.0;6.1;7.0;7.5"
SM_37P_50_60_61_70 = "3.7+PTX;5.0;6.0;6.1;7.0"
SM_37P_50_60_61_70_75 = "3.7+PTX;5.0;6.0;6.1;7.0;7.5"
SM_37_50_60_70 = "3.7;5.0;6.0;7.0"
SM_37_50_60_70_75 = "3.7;5.0;6.0;7.0;7.5"
SM_37_50_60_70_75_80 = "3.7;5.0;6.0;7.0;7.5;8.0"
SM_37_50_60_70_75_80_86 = "3.7;5.0;6.0;7.0;7.5;8.0;8.6"
SM_37_50_60_70_75_80_86_90 = "3.7;5.0;6.0;7.0;7.5;8.0;8.6;9.0"
SM_50_60_70_75_80_86_90 = "5.0;6.0;7.0;7.5;8.0;8.6;9.0"
SM_75_80_86_90_100_120 = "7.5;8.0;8.6;9.0;10.0;12.0"
SM_70_75_80_86_90_100_120 = "7.0;7.5;8.0;8.6;9.0;10.0;12.0"
SM_37P_50_60_61_70_75_80 = "3.7+PTX;5.0;6.0;6.1;7.0;7.5;8.0"
SM_37P_50_60_61_70_75_80_86 = "3.7+PTX;5.0;6.0;6.1;7.0;7.5;8.0;8.6"
SM_37P_50_60_61_70_75_80_86_90 = "3.7+PTX;5.0;6.0;6.1;7.0;7.5;8.0;8.6;9.0"
SM_50_60_61_70_75_80_86_90 = "5.0;6.0;6.1;7.0;7.5;8.0;8.6;9.0"
SM_80_90_100_110_120 = "8.0;9.0;10.0;11.0;12.0"

LINUX_X86_64, WINDOWS_X86_64, LINUX_AARCH64 = "linux-x86_64", "windows-x86_64", "linux-aarch64"
MEASURED_HIGH = "high (measured from the PyPI wheel)"
SCRIPT_HIGH = "high (script)"

ARCH_LISTS: tuple[ArchRow, ...] = (
    # Linux x86_64, 1.0 -> 1.7 (pytorch/builder manywheel/build.sh at each PyPI date; §2)
    ArchRow(torch=("1.0", "1.1"), variant="cu90", platform=LINUX_X86_64, arch=SM_35_50P_60_70,
            confidence=MEASURED_HIGH, source=f"{MEASURED} §2 (B-68c4; fatbin sm_35,50,60,70 + compute_50)"),
    ArchRow(torch=("1.0.0",), variant="cu100", platform=LINUX_X86_64, arch=SM_35_50P_60_61_70_75,
            confidence="medium (7.5 added the day before release)", source=f"{MEASURED} §2 (B-68c4)"),
    ArchRow(torch=("1.0", "1.1"), variant="cu100", platform=LINUX_X86_64, arch=SM_35_50P_60_61_70_75,
            confidence=SCRIPT_HIGH, source=f"{MEASURED} §2 (B-68c4)"),
    ArchRow(torch=("1.0",), variant="cu80", platform=LINUX_X86_64, arch="3.5;5.0+PTX;6.0;6.1",
            confidence=SCRIPT_HIGH, source=f"{MEASURED} §2 (B-68c4, 8.0 case)"),
    ArchRow(torch=("1.0", "1.1"), variant="cu92", platform=LINUX_X86_64, arch=SM_35_50P_60_61_70,
            confidence="script only", source=f"{MEASURED} §2 (B-68c4, 9.2 case)"),
    ArchRow(torch=("1.2",), variant="cu100", platform=LINUX_X86_64, arch=SM_35_50P_60_61_70_75,
            confidence=MEASURED_HIGH, source=f"{MEASURED} §2 (B-1305; fatbin sm_35..75 + compute_50)"),
    ArchRow(torch=("1.2",), variant="cu92", platform=LINUX_X86_64, arch=SM_35_50P_60_61_70,
            confidence=SCRIPT_HIGH, source=f"{MEASURED} §2 (B-1305)"),
    ArchRow(torch=("1.3.0",), variant="cu101", platform=LINUX_X86_64, arch=SM_35_50P_60_61_70_75,
            confidence=MEASURED_HIGH, source=f"{MEASURED} §2 (B-d56f; fatbin + compute_50)"),
    ArchRow(torch=("1.3.0",), variant="cu100", platform=LINUX_X86_64, arch=SM_35_50P_60_61_70_75,
            confidence="script only", source=f"{MEASURED} §2 (B-d56f)"),
    ArchRow(torch=("1.3.0",), variant="cu92", platform=LINUX_X86_64, arch=SM_35_50P_60_61_70,
            confidence="script only", source=f"{MEASURED} §2 (B-d56f)"),
    ArchRow(torch=("1.3.1",), variant="cu101", platform=LINUX_X86_64, arch=SM_37P_50_60_61_70_75,
            confidence=MEASURED_HIGH, source=f"{MEASURED} §2 (B-2d91; fatbin sm_37..75 + compute_37)"),
    ArchRow(torch=("1.3.1",), variant="cu100", platform=LINUX_X86_64, arch=SM_37P_50_60_61_70_75,
            confidence="script only", source=f"{MEASURED} §2 (B-2d91)"),
    ArchRow(torch=("1.3.1",), variant="cu92", platform=LINUX_X86_64, arch=SM_37P_50_60_61_70,
            confidence="script only", source=f"{MEASURED} §2 (B-2d91)"),
    ArchRow(torch=("1.4",), variant="cu101", platform=LINUX_X86_64, arch=SM_37P_50_60_61_70_75,
            confidence=MEASURED_HIGH, source=f"{MEASURED} §2 (B-2d91; PyPI 1.4.0 as 1.3.1)"),
    ArchRow(torch=("1.4",), variant="cu92", platform=LINUX_X86_64, arch=SM_37P_50_60_61_70,
            confidence=SCRIPT_HIGH, source=f"{MEASURED} §2 (B-2d91)"),
    ArchRow(torch=("1.5",), variant="cu102", platform=LINUX_X86_64, arch=SM_37P_50_60_61_70_75,
            confidence=MEASURED_HIGH, source=f"{MEASURED} §2 (B-a8c0; fatbin + compute_37)"),
    ArchRow(torch=("1.5",), variant="cu101", platform=LINUX_X86_64, arch=SM_37P_50_60_61_70_75,
            confidence=SCRIPT_HIGH, source=f"{MEASURED} §2 (B-a8c0)"),
    ArchRow(torch=("1.5",), variant="cu92", platform=LINUX_X86_64, arch=SM_37P_50_60_61_70,
            confidence=SCRIPT_HIGH, source=f"{MEASURED} §2 (B-a8c0)"),
    ArchRow(torch=("1.6",), variant="cu102", platform=LINUX_X86_64, arch=SM_37_50_60_70_75,
            confidence=MEASURED_HIGH, source=f"{MEASURED} §2 (B-8d06: no PTX, no 6.1)"),
    ArchRow(torch=("1.6",), variant="cu101", platform=LINUX_X86_64, arch=SM_37_50_60_70,
            confidence="medium (relies on the build date)", source=f"{MEASURED} §2 (B-8d06, 10.* case)"),
    ArchRow(torch=("1.6",), variant="cu92", platform=LINUX_X86_64, arch=SM_37_50_60_70,
            confidence=SCRIPT_HIGH, source=f"{MEASURED} §2 (B-8d06)"),
    ArchRow(torch=("1.7",), variant="cu102", platform=LINUX_X86_64, arch=SM_37_50_60_70_75,
            confidence=MEASURED_HIGH, source=f"{MEASURED} §2 (B-0b54 / B-3c1d)"),
    ArchRow(torch=("1.7",), variant="cu101", platform=LINUX_X86_64, arch=SM_37_50_60_70_75,
            confidence=SCRIPT_HIGH, source=f"{MEASURED} §2 (B-0b54 / B-3c1d, 10.* case)"),
    ArchRow(torch=("1.7",), variant="cu110", platform=LINUX_X86_64, arch=SM_37_50_60_70_75_80,
            confidence=SCRIPT_HIGH, source=f"{MEASURED} §2 (B-0b54, 11.* case)"),
    ArchRow(torch=("1.7",), variant="cu92", platform=LINUX_X86_64, arch=SM_37_50_60_70,
            confidence=SCRIPT_HIGH, source=f"{MEASURED} §2 (B-0b54)"),
    # Linux x86_64, 1.8 -> 2.15
    ArchRow(torch=("1.8", "1.9", "1.10", "1.11", "1.12"), variant="cu102", platform=LINUX_X86_64,
            arch=SM_37_50_60_70,
            confidence=MEASURED_HIGH, source=f"{MEASURED} §2/§5 (PyPI 1.8.0-1.12.0: sm_37 sm_50 sm_60 sm_70)"),
    ArchRow(torch=("1.8",), variant="cu101", platform=LINUX_X86_64, arch=SM_37_50_60_70,
            confidence=SCRIPT_HIGH, source=f"{MEASURED} §2 (lts/release/1.8 10.* case covers 10.1)"),
    ArchRow(torch=("1.8",), variant="cu111", platform=LINUX_X86_64, arch=SM_37_50_60_70_75_80_86,
            confidence=SCRIPT_HIGH, source=f"{SCRIPTS} B1 (BLD-1.8)"),
    ArchRow(torch=("1.9", "1.10"), variant="cu111", platform=LINUX_X86_64, arch=SM_37_50_60_70_75_80_86,
            confidence=SCRIPT_HIGH, source=f"{SCRIPTS} B1 (BLD-1.9/1.10)"),
    ArchRow(torch=("1.9", "1.10", "1.11", "1.12"), variant="cu113", platform=LINUX_X86_64,
            arch=SM_37_50_60_70_75_80_86,
            confidence=SCRIPT_HIGH, source=f"{SCRIPTS} B1 (BLD-1.9..1.12)"),
    ArchRow(torch=("1.11",), variant="cu115", platform=LINUX_X86_64, arch=SM_37_50_60_70_75_80_86,
            confidence="high", source=f"{SCRIPTS} B1 (BLD-1.11)"),
    ArchRow(torch=("1.12", "1.13"), variant="cu116", platform=LINUX_X86_64, arch=SM_37_50_60_70_75_80_86,
            confidence="high", source=f"{SCRIPTS} B1 (BLD-1.12/1.13)"),
    ArchRow(torch=("1.13", "2.0"), variant="cu117", platform=LINUX_X86_64, arch=SM_37_50_60_70_75_80_86,
            confidence=MEASURED_HIGH, source=f"{MEASURED} §5 (PyPI 1.13.0, 2.0.0)"),
    ArchRow(torch=("2.0", "2.1", "2.2", "2.3", "2.4", "2.5"), variant="cu118", platform=LINUX_X86_64,
            arch=SM_37_50_60_70_75_80_86_90,
            confidence="high", source=f"{SCRIPTS} B1 (BLD-2.0..2.5)"),
    ArchRow(torch=("2.1", "2.2", "2.3", "2.4"), variant="cu121", platform=LINUX_X86_64,
            arch=SM_50_60_70_75_80_86_90,
            confidence=MEASURED_HIGH, source=f"{MEASURED} §5 (PyPI 2.1.0-2.4.x)"),
    ArchRow(torch=("2.5",), variant="cu121", platform=LINUX_X86_64, arch=SM_50_60_70_75_80_86_90,
            confidence="high", source=f"{SCRIPTS} B1 (BLD-2.5)"),
    ArchRow(torch=("2.5", "2.6"), variant="cu124", platform=LINUX_X86_64, arch=SM_50_60_70_75_80_86_90,
            confidence=MEASURED_HIGH, source=f"{MEASURED} §5 (PyPI 2.5.0, 2.6.0)"),
    ArchRow(torch=("2.4",), variant="cu124", platform=LINUX_X86_64, arch=SM_50_60_70_75_80_86_90,
            confidence="high", source=f"{SCRIPTS} B1 (BLD-2.4)"),
    ArchRow(torch=("2.6",), variant="cu118", platform=LINUX_X86_64, arch=SM_37_50_60_70_75_80_86_90,
            confidence="medium (3rd-party measured)", source=f"{MEASURED} §4b/§5 (2.6.0+cu118 prints)"),
    ArchRow(torch=("2.7",), variant="cu118", platform=LINUX_X86_64, arch=SM_37_50_60_70_75_80_86_90,
            confidence="medium (inferred)", source=f"{MEASURED} §4b (pre-cut build_cuda.sh 11.8 case)"),
    ArchRow(torch=("2.6",), variant="cu126", platform=LINUX_X86_64, arch=SM_50_60_70_75_80_86_90,
            confidence="medium", source=f"{SCRIPTS} B1 (FORK-KDr2, GH#145616)"),
    ArchRow(torch=("2.7",), variant="cu126", platform=LINUX_X86_64, arch=SM_50_60_70_75_80_86_90,
            confidence=MEASURED_HIGH, source=f"{MEASURED} §5 (PyPI 2.7.0/2.7.1, fatbin: no PTX)"),
    ArchRow(torch=("2.8", "2.9", "2.10", "2.11", "2.12", "2.13", "2.14"), variant="cu126", platform=LINUX_X86_64,
            arch=SM_50_60_70_75_80_86_90,
            confidence="high", source=f"{SCRIPTS} B1 (PT-bc, REL-md, PT-env; 2.11 measured GH#182250)"),
    ArchRow(torch=("2.7",), variant="cu128", platform=LINUX_X86_64, arch=SM_75_80_86_90_100_120,
            confidence="medium (SASS medium-high; PTX uncertain)", source=f"{SCRIPTS} B1 (GH#146265, GH#147607)"),
    ArchRow(torch=("2.8", "2.9", "2.10"), variant="cu128", platform=LINUX_X86_64, arch=SM_70_75_80_86_90_100_120,
            confidence=MEASURED_HIGH, source=f"{MEASURED} §5 (PyPI 2.8.0, 2.9.0, 2.10.0)"),
    ArchRow(torch=("2.8",), variant="cu129", platform=LINUX_X86_64, arch=SM_70_75_80_86_90_100_120,
            confidence="high (SASS); PTX in release not found", source=f"{SCRIPTS} B1 (PT-bc@00c7a380)"),
    ArchRow(torch=("2.9", "2.10"), variant="cu130", platform=LINUX_X86_64,
            arch=SM_75_80_86_90_100_120[:-4] + "12.0+PTX",
            confidence="medium-high", source=f"{SCRIPTS} B1 (PT-bc@799d09f2, REL-md)"),
    ArchRow(torch=("2.11",), variant="cu128", platform=LINUX_X86_64, arch=SM_75_80_86_90_100_120,
            confidence="high", source=f"{SCRIPTS} B1 (GH#172352; measured GH#182250)"),
    ArchRow(torch=("2.11", "2.12", "2.13", "2.14"), variant="cu130", platform=LINUX_X86_64,
            arch=SM_75_80_86_90_100_120,
            confidence=MEASURED_HIGH, source=f"{MEASURED} §5/§6.2 (PyPI 2.11.0-2.14.0; 2.13.0 has no PTX)"),
    ArchRow(torch=("2.12", "2.13", "2.14"), variant="cu132", platform=LINUX_X86_64, arch=SM_75_80_86_90_100_120,
            confidence="high", source=f"{SCRIPTS} B1 (REL-md, PT-env, GH#190355)"),
    ArchRow(torch=("2.15",), variant="cu132", platform=LINUX_X86_64, arch=SM_75_80_86_90_100_120,
            confidence=MEASURED_HIGH, source=f"{MEASURED} §1b/§5 (PyPI 2.15.0)"),
    # Windows x86_64, 1.0 -> 1.7 (pytorch/builder windows/cudaXXX.bat; §3a)
    ArchRow(torch=("1.0.0",), variant="cu80", platform=WINDOWS_X86_64, arch="3.5;5.0+PTX;6.0;6.1",
            confidence="medium", source=f"{MEASURED} §3a (cuda80.bat @9282689c)"),
    ArchRow(torch=("1.0.0",), variant="cu90", platform=WINDOWS_X86_64, arch=SM_35_50P_60_70,
            confidence="medium", source=f"{MEASURED} §3a (cuda90.bat @532cb66e)"),
    ArchRow(torch=("1.0.0",), variant="cu100", platform=WINDOWS_X86_64, arch=SM_35_50P_60_61_70,
            confidence="medium", source=f"{MEASURED} §3a (cuda100.bat @483a1bda)"),
    ArchRow(torch=("1.0", "1.1"), variant="cu90", platform=WINDOWS_X86_64, arch=SM_35_50P_60_70,
            confidence=SCRIPT_HIGH, source=f"{MEASURED} §3a (cuda90.bat @3cafda48)"),
    ArchRow(torch=("1.0", "1.1"), variant="cu100", platform=WINDOWS_X86_64, arch=SM_35_50P_60_61_70_75,
            confidence=SCRIPT_HIGH, source=f"{MEASURED} §3a (cuda100.bat @3cafda48)"),
    ArchRow(torch=("1.2",), variant="cu100", platform=WINDOWS_X86_64, arch=SM_35_50P_60_61_70_75,
            confidence="high", source=f"{MEASURED} §3a (cuda100.bat @33c232c3)"),
    ArchRow(torch=("1.2",), variant="cu92", platform=WINDOWS_X86_64, arch=SM_35_50P_60_61_70,
            confidence="low", source=f"{MEASURED} §3a (windows/old/cuda92.bat)"),
    ArchRow(torch=("1.3",), variant="cu101", platform=WINDOWS_X86_64, arch=SM_35_50P_60_61_70_75,
            confidence=SCRIPT_HIGH, source=f"{MEASURED} §3a (cuda101.bat @0ca82808)"),
    ArchRow(torch=("1.3",), variant="cu100", platform=WINDOWS_X86_64, arch=SM_35_50P_60_61_70_75,
            confidence=SCRIPT_HIGH, source=f"{MEASURED} §3a (cuda100.bat)"),
    ArchRow(torch=("1.3",), variant="cu92", platform=WINDOWS_X86_64, arch=SM_35_50P_60_61_70,
            confidence=SCRIPT_HIGH, source=f"{MEASURED} §3a (cuda92.bat @7e1a5835)"),
    ArchRow(torch=("1.4",), variant="cu101", platform=WINDOWS_X86_64, arch=SM_37P_50_60_61_70_75,
            confidence=SCRIPT_HIGH, source=f"{MEASURED} §3a (@b3543d0d)"),
    ArchRow(torch=("1.4",), variant="cu92", platform=WINDOWS_X86_64, arch=SM_37P_50_60_61_70,
            confidence=SCRIPT_HIGH, source=f"{MEASURED} §3a (@b3543d0d)"),
    ArchRow(torch=("1.5", "1.6", "1.7"), variant="cu102", platform=WINDOWS_X86_64, arch=SM_37P_50_60_61_70_75,
            confidence=SCRIPT_HIGH, source=f"{MEASURED} §3a (@ee2d5907)"),
    ArchRow(torch=("1.5", "1.6", "1.7"), variant="cu101", platform=WINDOWS_X86_64, arch=SM_37P_50_60_61_70_75,
            confidence=SCRIPT_HIGH, source=f"{MEASURED} §3a (@ee2d5907)"),
    ArchRow(torch=("1.5", "1.6", "1.7"), variant="cu92", platform=WINDOWS_X86_64, arch=SM_37P_50_60_61_70,
            confidence=SCRIPT_HIGH, source=f"{MEASURED} §3a (@ee2d5907)"),
    ArchRow(torch=("1.7",), variant="cu110", platform=WINDOWS_X86_64, arch=SM_37P_50_60_61_70_75_80,
            confidence=SCRIPT_HIGH, source=f"{MEASURED} §3a (cuda110.bat @492acfa4)"),
    # Windows x86_64, 1.8 -> 2.14 (B2; §3b)
    ArchRow(torch=("1.8", "1.9", "1.10", "1.11"), variant="cu101", platform=WINDOWS_X86_64,
            arch=SM_37P_50_60_61_70_75,
            confidence=SCRIPT_HIGH, source=f"{SCRIPTS} B2 (BLD-1.8..1.11)"),
    ArchRow(torch=("1.8", "1.9", "1.10", "1.11", "1.12", "1.13"), variant="cu102", platform=WINDOWS_X86_64,
            arch=SM_37P_50_60_61_70_75,
            confidence=SCRIPT_HIGH, source=f"{SCRIPTS} B2 (BLD-1.8..1.13)"),
    ArchRow(torch=("1.8", "1.9", "1.10", "1.11"), variant="cu110", platform=WINDOWS_X86_64,
            arch=SM_37P_50_60_61_70_75_80,
            confidence=SCRIPT_HIGH, source=f"{SCRIPTS} B2 (BLD-1.8..1.11)"),
    ArchRow(torch=("1.8", "1.9", "1.10", "1.11"), variant="cu111", platform=WINDOWS_X86_64,
            arch=SM_37P_50_60_61_70_75_80_86,
            confidence=SCRIPT_HIGH, source=f"{SCRIPTS} B2 (BLD-1.8..1.11)"),
    ArchRow(torch=("1.8", "1.9", "1.10", "1.11", "1.12"), variant="cu113", platform=WINDOWS_X86_64,
            arch=SM_37P_50_60_61_70_75_80_86,
            confidence=SCRIPT_HIGH, source=f"{SCRIPTS} B2 (BLD-1.8..1.12)"),
    ArchRow(torch=("1.11", "1.12"), variant="cu115", platform=WINDOWS_X86_64, arch=SM_37P_50_60_61_70_75_80_86,
            confidence=SCRIPT_HIGH, source=f"{SCRIPTS} B2 (BLD-1.11/1.12)"),
    ArchRow(torch=("1.12", "1.13", "2.0"), variant="cu116", platform=WINDOWS_X86_64,
            arch=SM_37P_50_60_61_70_75_80_86,
            confidence=SCRIPT_HIGH, source=f"{SCRIPTS} B2 (BLD-1.12..2.0)"),
    ArchRow(torch=("1.13", "2.0"), variant="cu117", platform=WINDOWS_X86_64, arch=SM_37P_50_60_61_70_75_80_86,
            confidence=SCRIPT_HIGH, source=f"{SCRIPTS} B2 (BLD-1.13/2.0)"),
    ArchRow(torch=("2.0", "2.1", "2.2", "2.3", "2.4", "2.5"), variant="cu118", platform=WINDOWS_X86_64,
            arch=SM_37P_50_60_61_70_75_80_86_90,
            confidence=SCRIPT_HIGH, source=f"{SCRIPTS} B2 (BLD-2.0..2.5)"),
    ArchRow(torch=("2.6", "2.7"), variant="cu118", platform=WINDOWS_X86_64, arch=SM_37P_50_60_61_70_75_80_86_90,
            confidence="medium (file undated)", source=f"{MEASURED} §3b (cuda118.bat @78908803)"),
    ArchRow(torch=("2.1", "2.2", "2.3", "2.4", "2.5"), variant="cu121", platform=WINDOWS_X86_64,
            arch=SM_50_60_61_70_75_80_86_90,
            confidence=SCRIPT_HIGH, source=f"{SCRIPTS} B2 (BLD-2.1..2.5)"),
    ArchRow(torch=("2.4", "2.5"), variant="cu124", platform=WINDOWS_X86_64, arch=SM_50_60_61_70_75_80_86_90,
            confidence=SCRIPT_HIGH, source=f"{SCRIPTS} B2 (BLD-2.4/2.5)"),
    ArchRow(torch=("2.6",), variant="cu124", platform=WINDOWS_X86_64, arch=SM_50_60_61_70_75_80_86_90,
            confidence="medium", source=f"{MEASURED} §3b (cuda124.bat @475876a4)"),
    ArchRow(torch=("2.6", "2.7", "2.8", "2.9", "2.10", "2.11", "2.12", "2.13", "2.14"), variant="cu126",
            platform=WINDOWS_X86_64, arch=SM_50_60_61_70_75_80_86_90,
            confidence="medium-high", source=f"{MEASURED} §3b (cuda126.bat, cuda_config.bat, build_env_setup.py)"),
    ArchRow(torch=("2.7",), variant="cu128", platform=WINDOWS_X86_64, arch=SM_75_80_86_90_100_120,
            confidence="medium", source=f"{MEASURED} §3b (cuda128.bat, fork @e9e622cb)"),
    ArchRow(torch=("2.8",), variant="cu128", platform=WINDOWS_X86_64, arch="6.1;" + SM_70_75_80_86_90_100_120,
            confidence="low-medium", source=f"{MEASURED} §3b/§6.6 (PR #164470; 3rd-party print)"),
    ArchRow(torch=("2.9",), variant="cu128", platform=WINDOWS_X86_64, arch=SM_70_75_80_86_90_100_120,
            confidence="low (6.1 may also be in: not established)", source=f"{MEASURED} §3b"),
    ArchRow(torch=("2.10",), variant="cu128", platform=WINDOWS_X86_64, arch=SM_70_75_80_86_90_100_120,
            confidence="low (inferred)", source=f"{MEASURED} §3b (main after PR #164470)"),
    ArchRow(torch=("2.11",), variant="cu128", platform=WINDOWS_X86_64, arch=SM_75_80_86_90_100_120,
            confidence="medium", source=f"{MEASURED} §3b (cuda_config.bat 128 case)"),
    ArchRow(torch=("2.8",), variant="cu129", platform=WINDOWS_X86_64, arch=SM_75_80_86_90_100_120,
            confidence="low", source=f"{MEASURED} §3b (cuda129.bat)"),
    ArchRow(torch=("2.9", "2.10", "2.11", "2.12", "2.13", "2.14"), variant="cu130", platform=WINDOWS_X86_64,
            arch=SM_75_80_86_90_100_120,
            confidence="medium-high",
            source=f"{MEASURED} §3b (cuda130.bat, cuda_config.bat 130; no PTX on Windows)"),
    ArchRow(torch=("2.12", "2.13", "2.14"), variant="cu132", platform=WINDOWS_X86_64, arch=SM_75_80_86_90_100_120,
            confidence="medium-high", source=f"{MEASURED} §3b (cuda_config.bat 132)"),
    # Linux aarch64 (SBSA) (B3; §4a)
    ArchRow(torch=("2.4", "2.5"), variant="cu124", platform=LINUX_AARCH64, arch="9.0",
            confidence=SCRIPT_HIGH, source=f"{SCRIPTS} B3 (BLD-2.4/2.5)"),
    ArchRow(torch=("2.6",), variant="cu126", platform=LINUX_AARCH64, arch="9.0",
            confidence="medium", source=f"{MEASURED} §4a (build_cuda.sh @36d984f9)"),
    ArchRow(torch=("2.7",), variant="cu128", platform=LINUX_AARCH64, arch="9.0;10.0;12.0",
            confidence="low (7.5 present or not: not established)", source=f"{MEASURED} §4a"),
    ArchRow(torch=("2.8",), variant="cu129", platform=LINUX_AARCH64, arch="9.0;10.0;12.0",
            confidence="low (the arches every candidate list shares)", source=f"{MEASURED} §4a"),
    ArchRow(torch=("2.9", "2.10", "2.11", "2.12", "2.13", "2.14"), variant="cu126", platform=LINUX_AARCH64,
            arch="8.0;9.0",
            confidence="medium", source=f"{MEASURED} §4a (PR #163764); {SCRIPTS} B3"),
    ArchRow(torch=("2.9", "2.10", "2.11"), variant="cu128", platform=LINUX_AARCH64, arch="8.0;9.0;10.0;12.0",
            confidence="medium", source=f"{MEASURED} §4a; {SCRIPTS} B3"),
    ArchRow(torch=("2.9", "2.10"), variant="cu130", platform=LINUX_AARCH64, arch=SM_80_90_100_110_120 + "+PTX",
            confidence="medium (PTX not measured)", source=f"{MEASURED} §4a"),
    ArchRow(torch=("2.11", "2.12", "2.13", "2.14"), variant="cu130", platform=LINUX_AARCH64,
            arch=SM_80_90_100_110_120,
            confidence=MEASURED_HIGH, source=f"{MEASURED} §4a/§6.3 (PyPI aarch64 2.11.0, 2.13.0, 2.14.0: no PTX)"),
    ArchRow(torch=("2.12", "2.13", "2.14"), variant="cu132", platform=LINUX_AARCH64, arch=SM_80_90_100_110_120,
            confidence="medium", source=f"{SCRIPTS} B3 (REL-md, PT-env; release strips PTX)"),
    ArchRow(torch=("2.15",), variant="cu132", platform=LINUX_AARCH64, arch=SM_80_90_100_110_120,
            confidence=MEASURED_HIGH, source=f"{MEASURED} §4a (PyPI aarch64 2.15.0)"),
)
