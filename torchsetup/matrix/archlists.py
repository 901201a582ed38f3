"""GPU arch lists (TORCH_CUDA_ARCH_LIST) per torch release, variant and platform, each row naming its
source and that source's own confidence. Measured rows (read out of the wheels,
pypi-builds-and-arch-lists.md) win over script rows (torch-arch-lists.md) where both exist.

"2.1" = every 2.1.x; "2.13.0" = that release only. More specific rows come first.
`X.Y` is SASS for sm_XY; `X.Y+PTX` adds PTX compute_XY.
"""

from __future__ import annotations

SCRIPTS = "torch-arch-lists.md"
MEASURED = "pypi-builds-and-arch-lists.md"

_K35 = "3.5;5.0+PTX;6.0;7.0"
_K35_61 = "3.5;5.0+PTX;6.0;6.1;7.0"
_K35_75 = "3.5;5.0+PTX;6.0;6.1;7.0;7.5"
_K37P = "3.7+PTX;5.0;6.0;6.1;7.0"
_K37P_75 = "3.7+PTX;5.0;6.0;6.1;7.0;7.5"
_K37 = "3.7;5.0;6.0;7.0"
_K37_75 = "3.7;5.0;6.0;7.0;7.5"
_K37_80 = "3.7;5.0;6.0;7.0;7.5;8.0"
_A86 = "3.7;5.0;6.0;7.0;7.5;8.0;8.6"
_C118 = "3.7;5.0;6.0;7.0;7.5;8.0;8.6;9.0"
_C12 = "5.0;6.0;7.0;7.5;8.0;8.6;9.0"
_BW = "7.5;8.0;8.6;9.0;10.0;12.0"
_BW70 = "7.0;7.5;8.0;8.6;9.0;10.0;12.0"
_W80 = "3.7+PTX;5.0;6.0;6.1;7.0;7.5;8.0"
_W86 = "3.7+PTX;5.0;6.0;6.1;7.0;7.5;8.0;8.6"
_W90 = "3.7+PTX;5.0;6.0;6.1;7.0;7.5;8.0;8.6;9.0"
_W12 = "5.0;6.0;6.1;7.0;7.5;8.0;8.6;9.0"
_ARM13 = "8.0;9.0;10.0;11.0;12.0"

L, W, A = "linux-x86_64", "windows-x86_64", "linux-aarch64"
_M = "high (measured from the PyPI wheel)"
_S = "high (script)"

# (torch versions, variant, platform, TORCH_CUDA_ARCH_LIST, confidence, source)
ARCH_LISTS: tuple[tuple[tuple[str, ...], str, str, str, str, str], ...] = (
    # Linux x86_64, 1.0 -> 1.7 (pytorch/builder manywheel/build.sh at each PyPI date; §2)
    (("1.0", "1.1"), "cu90", L, _K35, _M, f"{MEASURED} §2 (B-68c4; fatbin sm_35,50,60,70 + compute_50)"),
    (("1.0.0",), "cu100", L, _K35_75, "medium (7.5 added the day before release)", f"{MEASURED} §2 (B-68c4)"),
    (("1.0", "1.1"), "cu100", L, _K35_75, _S, f"{MEASURED} §2 (B-68c4)"),
    (("1.0",), "cu80", L, "3.5;5.0+PTX;6.0;6.1", _S, f"{MEASURED} §2 (B-68c4, 8.0 case)"),
    (("1.0", "1.1"), "cu92", L, _K35_61, "script only", f"{MEASURED} §2 (B-68c4, 9.2 case)"),
    (("1.2",), "cu100", L, _K35_75, _M, f"{MEASURED} §2 (B-1305; fatbin sm_35..75 + compute_50)"),
    (("1.2",), "cu92", L, _K35_61, _S, f"{MEASURED} §2 (B-1305)"),
    (("1.3.0",), "cu101", L, _K35_75, _M, f"{MEASURED} §2 (B-d56f; fatbin + compute_50)"),
    (("1.3.0",), "cu100", L, _K35_75, "script only", f"{MEASURED} §2 (B-d56f)"),
    (("1.3.0",), "cu92", L, _K35_61, "script only", f"{MEASURED} §2 (B-d56f)"),
    (("1.3.1",), "cu101", L, _K37P_75, _M, f"{MEASURED} §2 (B-2d91; fatbin sm_37..75 + compute_37)"),
    (("1.3.1",), "cu100", L, _K37P_75, "script only", f"{MEASURED} §2 (B-2d91)"),
    (("1.3.1",), "cu92", L, _K37P, "script only", f"{MEASURED} §2 (B-2d91)"),
    (("1.4",), "cu101", L, _K37P_75, _M, f"{MEASURED} §2 (B-2d91; PyPI 1.4.0 as 1.3.1)"),
    (("1.4",), "cu92", L, _K37P, _S, f"{MEASURED} §2 (B-2d91)"),
    (("1.5",), "cu102", L, _K37P_75, _M, f"{MEASURED} §2 (B-a8c0; fatbin + compute_37)"),
    (("1.5",), "cu101", L, _K37P_75, _S, f"{MEASURED} §2 (B-a8c0)"),
    (("1.5",), "cu92", L, _K37P, _S, f"{MEASURED} §2 (B-a8c0)"),
    (("1.6",), "cu102", L, _K37_75, _M, f"{MEASURED} §2 (B-8d06: no PTX, no 6.1)"),
    (("1.6",), "cu101", L, _K37, "medium (relies on the build date)", f"{MEASURED} §2 (B-8d06, 10.* case)"),
    (("1.6",), "cu92", L, _K37, _S, f"{MEASURED} §2 (B-8d06)"),
    (("1.7",), "cu102", L, _K37_75, _M, f"{MEASURED} §2 (B-0b54 / B-3c1d)"),
    (("1.7",), "cu101", L, _K37_75, _S, f"{MEASURED} §2 (B-0b54 / B-3c1d, 10.* case)"),
    (("1.7",), "cu110", L, _K37_80, _S, f"{MEASURED} §2 (B-0b54, 11.* case)"),
    (("1.7",), "cu92", L, _K37, _S, f"{MEASURED} §2 (B-0b54)"),
    # Linux x86_64, 1.8 -> 2.15
    (("1.8", "1.9", "1.10", "1.11", "1.12"), "cu102", L, _K37, _M,
     f"{MEASURED} §2/§5 (PyPI 1.8.0-1.12.0: sm_37 sm_50 sm_60 sm_70)"),
    (("1.8",), "cu101", L, _K37, _S, f"{MEASURED} §2 (lts/release/1.8 10.* case covers 10.1)"),
    (("1.8",), "cu111", L, _A86, _S, f"{SCRIPTS} B1 (BLD-1.8)"),
    (("1.9", "1.10"), "cu111", L, _A86, _S, f"{SCRIPTS} B1 (BLD-1.9/1.10)"),
    (("1.9", "1.10", "1.11", "1.12"), "cu113", L, _A86, _S, f"{SCRIPTS} B1 (BLD-1.9..1.12)"),
    (("1.11",), "cu115", L, _A86, "high", f"{SCRIPTS} B1 (BLD-1.11)"),
    (("1.12", "1.13"), "cu116", L, _A86, "high", f"{SCRIPTS} B1 (BLD-1.12/1.13)"),
    (("1.13", "2.0"), "cu117", L, _A86, _M, f"{MEASURED} §5 (PyPI 1.13.0, 2.0.0)"),
    (("2.0", "2.1", "2.2", "2.3", "2.4", "2.5"), "cu118", L, _C118, "high", f"{SCRIPTS} B1 (BLD-2.0..2.5)"),
    (("2.1", "2.2", "2.3", "2.4"), "cu121", L, _C12, _M, f"{MEASURED} §5 (PyPI 2.1.0-2.4.x)"),
    (("2.5",), "cu121", L, _C12, "high", f"{SCRIPTS} B1 (BLD-2.5)"),
    (("2.5", "2.6"), "cu124", L, _C12, _M, f"{MEASURED} §5 (PyPI 2.5.0, 2.6.0)"),
    (("2.4",), "cu124", L, _C12, "high", f"{SCRIPTS} B1 (BLD-2.4)"),
    (("2.6",), "cu118", L, _C118, "medium (3rd-party measured)", f"{MEASURED} §4b/§5 (2.6.0+cu118 prints)"),
    (("2.7",), "cu118", L, _C118, "medium (inferred)", f"{MEASURED} §4b (pre-cut build_cuda.sh 11.8 case)"),
    (("2.6",), "cu126", L, _C12, "medium", f"{SCRIPTS} B1 (FORK-KDr2, GH#145616)"),
    (("2.7",), "cu126", L, _C12, _M, f"{MEASURED} §5 (PyPI 2.7.0/2.7.1, fatbin: no PTX)"),
    (("2.8", "2.9", "2.10", "2.11", "2.12", "2.13", "2.14"), "cu126", L, _C12, "high",
     f"{SCRIPTS} B1 (PT-bc, REL-md, PT-env; 2.11 measured GH#182250)"),
    (("2.7",), "cu128", L, _BW, "medium (SASS medium-high; PTX uncertain)",
     f"{SCRIPTS} B1 (GH#146265, GH#147607)"),
    (("2.8", "2.9", "2.10"), "cu128", L, _BW70, _M, f"{MEASURED} §5 (PyPI 2.8.0, 2.9.0, 2.10.0)"),
    (("2.8",), "cu129", L, _BW70, "high (SASS); PTX in release not found", f"{SCRIPTS} B1 (PT-bc@00c7a380)"),
    (("2.9", "2.10"), "cu130", L, _BW[:-4] + "12.0+PTX", "medium-high", f"{SCRIPTS} B1 (PT-bc@799d09f2, REL-md)"),
    (("2.11",), "cu128", L, _BW, "high", f"{SCRIPTS} B1 (GH#172352; measured GH#182250)"),
    (("2.11", "2.12", "2.13", "2.14"), "cu130", L, _BW, _M,
     f"{MEASURED} §5/§6.2 (PyPI 2.11.0-2.14.0; 2.13.0 has no PTX)"),
    (("2.12", "2.13", "2.14"), "cu132", L, _BW, "high", f"{SCRIPTS} B1 (REL-md, PT-env, GH#190355)"),
    (("2.15",), "cu132", L, _BW, _M, f"{MEASURED} §1b/§5 (PyPI 2.15.0)"),
    # Windows x86_64, 1.0 -> 1.7 (pytorch/builder windows/cudaXXX.bat; §3a)
    (("1.0.0",), "cu80", W, "3.5;5.0+PTX;6.0;6.1", "medium", f"{MEASURED} §3a (cuda80.bat @9282689c)"),
    (("1.0.0",), "cu90", W, _K35, "medium", f"{MEASURED} §3a (cuda90.bat @532cb66e)"),
    (("1.0.0",), "cu100", W, _K35_61, "medium", f"{MEASURED} §3a (cuda100.bat @483a1bda)"),
    (("1.0", "1.1"), "cu90", W, _K35, _S, f"{MEASURED} §3a (cuda90.bat @3cafda48)"),
    (("1.0", "1.1"), "cu100", W, _K35_75, _S, f"{MEASURED} §3a (cuda100.bat @3cafda48)"),
    (("1.2",), "cu100", W, _K35_75, "high", f"{MEASURED} §3a (cuda100.bat @33c232c3)"),
    (("1.2",), "cu92", W, _K35_61, "low", f"{MEASURED} §3a (windows/old/cuda92.bat)"),
    (("1.3",), "cu101", W, _K35_75, _S, f"{MEASURED} §3a (cuda101.bat @0ca82808)"),
    (("1.3",), "cu100", W, _K35_75, _S, f"{MEASURED} §3a (cuda100.bat)"),
    (("1.3",), "cu92", W, _K35_61, _S, f"{MEASURED} §3a (cuda92.bat @7e1a5835)"),
    (("1.4",), "cu101", W, _K37P_75, _S, f"{MEASURED} §3a (@b3543d0d)"),
    (("1.4",), "cu92", W, _K37P, _S, f"{MEASURED} §3a (@b3543d0d)"),
    (("1.5", "1.6", "1.7"), "cu102", W, _K37P_75, _S, f"{MEASURED} §3a (@ee2d5907)"),
    (("1.5", "1.6", "1.7"), "cu101", W, _K37P_75, _S, f"{MEASURED} §3a (@ee2d5907)"),
    (("1.5", "1.6", "1.7"), "cu92", W, _K37P, _S, f"{MEASURED} §3a (@ee2d5907)"),
    (("1.7",), "cu110", W, _W80, _S, f"{MEASURED} §3a (cuda110.bat @492acfa4)"),
    # Windows x86_64, 1.8 -> 2.14 (B2; §3b)
    (("1.8", "1.9", "1.10", "1.11"), "cu101", W, _K37P_75, _S, f"{SCRIPTS} B2 (BLD-1.8..1.11)"),
    (("1.8", "1.9", "1.10", "1.11", "1.12", "1.13"), "cu102", W, _K37P_75, _S, f"{SCRIPTS} B2 (BLD-1.8..1.13)"),
    (("1.8", "1.9", "1.10", "1.11"), "cu110", W, _W80, _S, f"{SCRIPTS} B2 (BLD-1.8..1.11)"),
    (("1.8", "1.9", "1.10", "1.11"), "cu111", W, _W86, _S, f"{SCRIPTS} B2 (BLD-1.8..1.11)"),
    (("1.8", "1.9", "1.10", "1.11", "1.12"), "cu113", W, _W86, _S, f"{SCRIPTS} B2 (BLD-1.8..1.12)"),
    (("1.11", "1.12"), "cu115", W, _W86, _S, f"{SCRIPTS} B2 (BLD-1.11/1.12)"),
    (("1.12", "1.13", "2.0"), "cu116", W, _W86, _S, f"{SCRIPTS} B2 (BLD-1.12..2.0)"),
    (("1.13", "2.0"), "cu117", W, _W86, _S, f"{SCRIPTS} B2 (BLD-1.13/2.0)"),
    (("2.0", "2.1", "2.2", "2.3", "2.4", "2.5"), "cu118", W, _W90, _S, f"{SCRIPTS} B2 (BLD-2.0..2.5)"),
    (("2.6", "2.7"), "cu118", W, _W90, "medium (file undated)", f"{MEASURED} §3b (cuda118.bat @78908803)"),
    (("2.1", "2.2", "2.3", "2.4", "2.5"), "cu121", W, _W12, _S, f"{SCRIPTS} B2 (BLD-2.1..2.5)"),
    (("2.4", "2.5"), "cu124", W, _W12, _S, f"{SCRIPTS} B2 (BLD-2.4/2.5)"),
    (("2.6",), "cu124", W, _W12, "medium", f"{MEASURED} §3b (cuda124.bat @475876a4)"),
    (("2.6", "2.7", "2.8", "2.9", "2.10", "2.11", "2.12", "2.13", "2.14"), "cu126", W, _W12, "medium-high",
     f"{MEASURED} §3b (cuda126.bat, cuda_config.bat, build_env_setup.py)"),
    (("2.7",), "cu128", W, _BW, "medium", f"{MEASURED} §3b (cuda128.bat, fork @e9e622cb)"),
    (("2.8",), "cu128", W, "6.1;" + _BW70, "low-medium", f"{MEASURED} §3b/§6.6 (PR #164470; 3rd-party print)"),
    (("2.9",), "cu128", W, _BW70, "low (6.1 may also be in: not established)", f"{MEASURED} §3b"),
    (("2.10",), "cu128", W, _BW70, "low (inferred)", f"{MEASURED} §3b (main after PR #164470)"),
    (("2.11",), "cu128", W, _BW, "medium", f"{MEASURED} §3b (cuda_config.bat 128 case)"),
    (("2.8",), "cu129", W, _BW, "low", f"{MEASURED} §3b (cuda129.bat)"),
    (("2.9", "2.10", "2.11", "2.12", "2.13", "2.14"), "cu130", W, _BW, "medium-high",
     f"{MEASURED} §3b (cuda130.bat, cuda_config.bat 130; no PTX on Windows)"),
    (("2.12", "2.13", "2.14"), "cu132", W, _BW, "medium-high", f"{MEASURED} §3b (cuda_config.bat 132)"),
    # Linux aarch64 (SBSA) (B3; §4a)
    (("2.4", "2.5"), "cu124", A, "9.0", _S, f"{SCRIPTS} B3 (BLD-2.4/2.5)"),
    (("2.6",), "cu126", A, "9.0", "medium", f"{MEASURED} §4a (build_cuda.sh @36d984f9)"),
    (("2.7",), "cu128", A, "9.0;10.0;12.0", "low (7.5 present or not: not established)", f"{MEASURED} §4a"),
    (("2.8",), "cu129", A, "9.0;10.0;12.0", "low (the arches every candidate list shares)", f"{MEASURED} §4a"),
    (("2.9", "2.10", "2.11", "2.12", "2.13", "2.14"), "cu126", A, "8.0;9.0", "medium",
     f"{MEASURED} §4a (PR #163764); {SCRIPTS} B3"),
    (("2.9", "2.10", "2.11"), "cu128", A, "8.0;9.0;10.0;12.0", "medium", f"{MEASURED} §4a; {SCRIPTS} B3"),
    (("2.9", "2.10"), "cu130", A, _ARM13 + "+PTX", "medium (PTX not measured)", f"{MEASURED} §4a"),
    (("2.11", "2.12", "2.13", "2.14"), "cu130", A, _ARM13, _M,
     f"{MEASURED} §4a/§6.3 (PyPI aarch64 2.11.0, 2.13.0, 2.14.0: no PTX)"),
    (("2.12", "2.13", "2.14"), "cu132", A, _ARM13, "medium", f"{SCRIPTS} B3 (REL-md, PT-env; release strips PTX)"),
    (("2.15",), "cu132", A, _ARM13, _M, f"{MEASURED} §4a (PyPI aarch64 2.15.0)"),
)
