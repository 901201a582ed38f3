"""Knowledge tables, transcribed row by row from ../shared/reference/, each row naming its source.

These rows are copied into data/compat_matrix.json by `build`; at run time only the JSON is read,
so there is one copy of every table.
"""

from __future__ import annotations

PYTORCH_INDEX_BASE = "https://download.pytorch.org/whl"  # the PyTorch wheel index, per variant below it
DRIVER_TABLE = "reference/cuda-driver-table.md"
ARCH_TABLE = "reference/torch-arch-lists.md"

# Minimum driver a cuXYZ wheel needs (Table A3; minor-version compatibility from CUDA 11.1 on).
# (variant prefix family, linux, windows, source)
DRIVER_MINIMUMS: tuple[tuple[str, str, str, str], ...] = (
    ("cu13", "580", "580", f"{DRIVER_TABLE} A1/A3 (13.x >= 580, RN-13.2U2, MVC)"),
    ("cu12", "525.60.13", "528.33", f"{DRIVER_TABLE} A1/A3 (12.x, UV; Windows note 1)"),
    ("cu11", "450.80.02", "452.39", f"{DRIVER_TABLE} A1/A3 (11.x minor compat, RN-13.4U1)"),
    ("cu110", "450.36.06", "451.22", f"{DRIVER_TABLE} A1/A3 (11.0, RN-13.2U2 Table 3)"),
    ("cu102", "440.33", "441.22", f"{DRIVER_TABLE} A1/A3 (10.2, MVC Table 2)"),
    ("cu101", "418.39", "418.96", f"{DRIVER_TABLE} A1/A3 (10.1, MVC Table 2)"),
    ("cu100", "410.48", "411.31", f"{DRIVER_TABLE} A1/A3 (10.0, MVC Table 2)"),
)

# Driver shipped with each toolkit GA (Table A2): a driver at least this new fully supports X.Y.
# Used only when the driver's own CUDA version (NVML / nvidia-smi) is unknown.
TOOLKIT_DRIVERS: tuple[tuple[str, str, str | None], ...] = (
    ("13.2", "595.45.04", None), ("13.1", "590.44.01", None), ("13.0", "580.65.06", None),
    ("12.9", "575.51.03", "576.02"), ("12.8", "570.26", "570.65"), ("12.6", "560.28.03", "560.76"),
    ("12.5", "555.42.02", "555.85"), ("12.4", "550.54.14", "551.61"), ("12.3", "545.23.06", "545.84"),
    ("12.2", "535.54.03", "536.25"), ("12.1", "530.30.02", "531.14"), ("12.0", "525.60.13", "527.41"),
    ("11.8", "520.61.05", "520.06"), ("11.7", "515.43.04", "516.01"), ("11.6", "510.39.01", "511.23"),
    ("11.5", "495.29.05", "496.04"), ("11.4", "470.42.01", "471.11"), ("11.3", "465.19.01", "465.89"),
    ("11.2", "460.27.03", "460.82"), ("11.1", "455.23", "456.38"), ("11.0", "450.36.06", "451.22"),
    ("10.2", "440.33", "441.22"), ("10.1", "418.39", "418.96"), ("10.0", "410.48", "411.31"),
)
TOOLKIT_DRIVERS_SOURCE = f"{DRIVER_TABLE} A2 (RN-13.2U2 Table 3, GA rows)"

_K37 = "3.7;5.0;6.0;7.0"
_A86 = "3.7;5.0;6.0;7.0;7.5;8.0;8.6"
_C118 = "3.7;5.0;6.0;7.0;7.5;8.0;8.6;9.0"
_C12 = "5.0;6.0;7.0;7.5;8.0;8.6;9.0"
_BW = "7.5;8.0;8.6;9.0;10.0;12.0"
_BW70 = "7.0;7.5;8.0;8.6;9.0;10.0;12.0"
_W37 = "3.7+PTX;5.0;6.0;6.1;7.0;7.5"
_W86 = "3.7+PTX;5.0;6.0;6.1;7.0;7.5;8.0;8.6"
_W90 = "3.7+PTX;5.0;6.0;6.1;7.0;7.5;8.0;8.6;9.0"
_W12 = "5.0;6.0;6.1;7.0;7.5;8.0;8.6;9.0"
_ARM13 = "8.0;9.0;10.0;11.0;12.0"

# (torch versions: "2.1" = every 2.1.x, "2.13.0" = that release only; variant; platform;
#  TORCH_CUDA_ARCH_LIST; confidence; source). More specific rows come first.
ARCH_LISTS: tuple[tuple[tuple[str, ...], str, str, str, str, str], ...] = (
    # B1 — Linux x86_64
    (("1.8",), "cu102", "linux-x86_64", _K37, "high", f"{ARCH_TABLE} B1 (BLD-1.8)"),
    (("1.8",), "cu111", "linux-x86_64", _A86, "high", f"{ARCH_TABLE} B1 (BLD-1.8)"),
    (("1.9", "1.10", "1.11", "1.12"), "cu102", "linux-x86_64", _K37, "high",
     f"{ARCH_TABLE} B1 (BLD-1.9..1.12)"),
    (("1.9", "1.10"), "cu111", "linux-x86_64", _A86, "high", f"{ARCH_TABLE} B1 (BLD-1.9/1.10)"),
    (("1.9", "1.10", "1.11", "1.12"), "cu113", "linux-x86_64", _A86, "high",
     f"{ARCH_TABLE} B1 (BLD-1.9..1.12)"),
    (("1.11",), "cu115", "linux-x86_64", _A86, "high", f"{ARCH_TABLE} B1 (BLD-1.11)"),
    (("1.12", "1.13"), "cu116", "linux-x86_64", _A86, "high", f"{ARCH_TABLE} B1 (BLD-1.12/1.13)"),
    (("1.13", "2.0"), "cu117", "linux-x86_64", _A86, "high", f"{ARCH_TABLE} B1 (BLD-1.13/2.0)"),
    (("2.0", "2.1", "2.2", "2.3", "2.4", "2.5"), "cu118", "linux-x86_64", _C118, "high",
     f"{ARCH_TABLE} B1 (BLD-2.0..2.5)"),
    (("2.1", "2.2", "2.3", "2.4", "2.5"), "cu121", "linux-x86_64", _C12, "high",
     f"{ARCH_TABLE} B1 (BLD-2.1..2.5)"),
    (("2.4", "2.5", "2.6"), "cu124", "linux-x86_64", _C12, "high",
     f"{ARCH_TABLE} B1 (BLD-2.4/2.5; 2.6 FORK-KDr2, medium)"),
    (("2.6",), "cu118", "linux-x86_64", _C118, "medium", f"{ARCH_TABLE} B1 (FORK-KDr2)"),
    (("2.7",), "cu118", "linux-x86_64", _C118, "low", f"{ARCH_TABLE} B1 (assumed unchanged)"),
    (("2.6", "2.7", "2.8", "2.9", "2.10", "2.11", "2.12", "2.13", "2.14"), "cu126", "linux-x86_64",
     _C12, "high", f"{ARCH_TABLE} B1 (GH#145616, GH#148000, PT-bc, REL-md, PT-env)"),
    (("2.7",), "cu128", "linux-x86_64", _BW, "medium", f"{ARCH_TABLE} B1 (GH#146265, GH#147607)"),
    (("2.8", "2.9", "2.10"), "cu128", "linux-x86_64", _BW70, "high",
     f"{ARCH_TABLE} B1 (PT-bc@00c7a380, GH#160269, GH#182250)"),
    (("2.8",), "cu129", "linux-x86_64", _BW70, "high", f"{ARCH_TABLE} B1 (PT-bc@00c7a380)"),
    (("2.9", "2.10"), "cu130", "linux-x86_64", _BW[:-4] + "12.0+PTX", "medium-high",
     f"{ARCH_TABLE} B1 (PT-bc@799d09f2, REL-md)"),
    (("2.11",), "cu128", "linux-x86_64", _BW, "high", f"{ARCH_TABLE} B1 (GH#172352, GH#182250)"),
    (("2.13.0",), "cu130", "linux-x86_64", _BW[:-4] + "12.0+PTX", "high",
     f"{ARCH_TABLE} B1 (GH#188914: 2.13.0 shipped 12.0+PTX)"),
    (("2.11", "2.12", "2.13", "2.14"), "cu130", "linux-x86_64", _BW, "high",
     f"{ARCH_TABLE} B1 (REL-md, GH#175567, PT-env)"),
    (("2.12", "2.13", "2.14"), "cu132", "linux-x86_64", _BW, "high",
     f"{ARCH_TABLE} B1 (REL-md, PT-env, GH#190355)"),
    # B2 — Windows x86_64
    (("1.8", "1.9", "1.10", "1.11"), "cu101", "windows-x86_64", _W37, "high", f"{ARCH_TABLE} B2"),
    (("1.8", "1.9", "1.10", "1.11", "1.12", "1.13"), "cu102", "windows-x86_64", _W37, "high",
     f"{ARCH_TABLE} B2"),
    (("1.8", "1.9", "1.10", "1.11"), "cu111", "windows-x86_64", _W86, "high", f"{ARCH_TABLE} B2"),
    (("1.8", "1.9", "1.10", "1.11", "1.12"), "cu113", "windows-x86_64", _W86, "high",
     f"{ARCH_TABLE} B2"),
    (("1.11", "1.12"), "cu115", "windows-x86_64", _W86, "high", f"{ARCH_TABLE} B2"),
    (("1.12", "1.13", "2.0"), "cu116", "windows-x86_64", _W86, "high", f"{ARCH_TABLE} B2"),
    (("1.13", "2.0"), "cu117", "windows-x86_64", _W86, "high", f"{ARCH_TABLE} B2"),
    (("2.0", "2.1", "2.2", "2.3", "2.4", "2.5"), "cu118", "windows-x86_64", _W90, "high",
     f"{ARCH_TABLE} B2"),
    (("2.1", "2.2", "2.3", "2.4", "2.5"), "cu121", "windows-x86_64", _W12, "high", f"{ARCH_TABLE} B2"),
    (("2.4", "2.5"), "cu124", "windows-x86_64", _W12, "high", f"{ARCH_TABLE} B2"),
    (("2.6", "2.7", "2.8", "2.9", "2.10", "2.11", "2.12", "2.13", "2.14"), "cu126", "windows-x86_64",
     _W12, "medium", f"{ARCH_TABLE} B2 (cuda126.bat, release line unknown)"),
    (("2.7", "2.8", "2.9", "2.10", "2.11"), "cu128", "windows-x86_64", _BW, "medium",
     f"{ARCH_TABLE} B2 (cuda128.bat; 2.8-2.10 may also have 7.0)"),
    (("2.8",), "cu129", "windows-x86_64", _BW, "medium", f"{ARCH_TABLE} B2 (cuda129.bat)"),
    (("2.9", "2.10", "2.11", "2.12", "2.13", "2.14"), "cu130", "windows-x86_64", _BW, "medium",
     f"{ARCH_TABLE} B2 (cuda130.bat)"),
    # B3 — Linux aarch64 (SBSA)
    (("2.4", "2.5"), "cu124", "linux-aarch64", "9.0", "high", f"{ARCH_TABLE} B3"),
    (("2.9", "2.10", "2.11", "2.12", "2.13", "2.14"), "cu126", "linux-aarch64", "8.0;9.0", "high",
     f"{ARCH_TABLE} B3"),
    (("2.9", "2.10", "2.11"), "cu128", "linux-aarch64", "8.0;9.0;10.0;12.0", "high",
     f"{ARCH_TABLE} B3"),
    (("2.9", "2.10", "2.11"), "cu130", "linux-aarch64", _ARM13 + "+PTX", "high", f"{ARCH_TABLE} B3"),
    (("2.12", "2.13", "2.14"), "cu130", "linux-aarch64", _ARM13, "high", f"{ARCH_TABLE} B3"),
    (("2.12", "2.13", "2.14"), "cu132", "linux-aarch64", _ARM13, "high", f"{ARCH_TABLE} B3"),
)

# Variants each minor release shipped (B6, REL-md) — used only for releases the page lacks.
SHIPPED_CUDA: dict[str, tuple[str, ...]] = {
    "2.14": ("cu126", "cu130", "cu132"),
}
SHIPPED_CUDA_SOURCE = f"{ARCH_TABLE} B6 (REL-md 'Release Compatibility Matrix', 3rd-party copy)"
PYPI_DEFAULT_CUDA: dict[str, str] = {"2.14": "cu132"}
PYPI_DEFAULT_SOURCE = f"{ARCH_TABLE} B1 (GH#190355: cu132 stable / default on PyPI)"
