"""Knowledge tables, transcribed row by row from the files in data/sources/, each row naming its
source and that source's own confidence.

These rows are copied into data/compat_matrix.json by `build`; at run time only the JSON is read,
so there is one copy of every table. The GPU arch lists are in `archlists.py`.
"""

from __future__ import annotations

DRIVER_TABLE = "cuda-driver-table.md"
MEASURED = "pypi-builds-and-arch-lists.md"
COMPANION_EVIDENCE = "companion-evidence.md"

# Minimum driver a cuXYZ wheel needs (Table A1/A3; minor-version compatibility from CUDA 11.1 on;
# before CUDA 11 a wheel needs the driver of its own toolkit, Table A6 for 8.0-9.2).
# (variant prefix, linux, windows, source)
DRIVER_MINIMUMS: tuple[tuple[str, str, str, str], ...] = (
    ("cu13", "580", "580", f"{DRIVER_TABLE} A1 (13.x >= 580: RN-13.2U2 Table 2, RN-13.4U1, MVC)"),
    ("cu12", "525.60.13", "528.33", f"{DRIVER_TABLE} A1 (12.x; 525.60.13 / 528.33 per note 1)"),
    ("cu11", "450.80.02", "452.39", f"{DRIVER_TABLE} A1 (11.x minor compat, RN-13.4U1)"),
    ("cu110", "450.51.05", "451.48", f"{DRIVER_TABLE} A1 (11.0.2 GA, RN-13.2U2 Table 3)"),
    ("cu102", "440.33", "441.22", f"{DRIVER_TABLE} A1 (10.2, MVC Table 2)"),
    ("cu101", "418.39", "418.96", f"{DRIVER_TABLE} A1 (10.1, MVC Table 2)"),
    ("cu100", "410.48", "411.31", f"{DRIVER_TABLE} A1 (10.0, MVC Table 2)"),
    ("cu92", "396.37", "398.26", f"{DRIVER_TABLE} A6 (9.2.148 Update 1, the safe minimum)"),
    ("cu90", "384.81", "385.54", f"{DRIVER_TABLE} A6 (9.0.76)"),
    ("cu80", "375.26", "376.51", f"{DRIVER_TABLE} A6 (8.0.61 GA2)"),
)

# Driver shipped with each toolkit GA (Table A2, A6): a driver at least this new fully supports X.Y.
# Used only when the driver's own CUDA version (NVML / nvidia-smi) is unknown.
TOOLKIT_DRIVERS: tuple[tuple[str, str, str | None], ...] = (
    ("13.2", "595.45.04", None), ("13.1", "590.44.01", None), ("13.0", "580.65.06", None),
    ("12.9", "575.51.03", "576.02"), ("12.8", "570.26", "570.65"), ("12.6", "560.28.03", "560.76"),
    ("12.5", "555.42.02", "555.85"), ("12.4", "550.54.14", "551.61"), ("12.3", "545.23.06", "545.84"),
    ("12.2", "535.54.03", "536.25"), ("12.1", "530.30.02", "531.14"), ("12.0", "525.60.13", "527.41"),
    ("11.8", "520.61.05", "520.06"), ("11.7", "515.43.04", "516.01"), ("11.6", "510.39.01", "511.23"),
    ("11.5", "495.29.05", "496.04"), ("11.4", "470.42.01", "471.11"), ("11.3", "465.19.01", "465.89"),
    ("11.2", "460.27.03", "460.82"), ("11.1", "455.23", "456.38"), ("11.0", "450.51.05", "451.48"),
    ("10.2", "440.33", "441.22"), ("10.1", "418.39", "418.96"), ("10.0", "410.48", "411.31"),
    ("9.2", "396.37", "398.26"), ("9.0", "384.81", "385.54"), ("8.0", "375.26", "376.51"),
)
TOOLKIT_DRIVERS_SOURCE = f"{DRIVER_TABLE} A2 (RN-13.2U2 Table 3, GA rows) and A6 (before 10.0)"

# What a plain `pip install torch==X` gets from PyPI, per platform, measured from torch/version.py
# and METADATA inside the wheels (pypi-builds-and-arch-lists.md §1a-1c). "2.1" = every 2.1.x the
# index has wheels of for that platform. (torch minors, platform, build, confidence, source)
_HIGH = "high (measured from the wheel)"
PYPI_BUILDS: tuple[tuple[tuple[str, ...], str, str, str, str], ...] = (
    (("1.0", "1.1"), "linux-x86_64", "cu90", _HIGH, f"{MEASURED} §1a/1b (cuda '9.0.176')"),
    (("1.2",), "linux-x86_64", "cu100", _HIGH, f"{MEASURED} §1a/1b (cuda '10.0.130')"),
    (("1.3", "1.4"), "linux-x86_64", "cu101", _HIGH, f"{MEASURED} §1a/1b (cuda '10.1.243' / '10.1')"),
    (("1.5", "1.6", "1.7", "1.8", "1.9", "1.10", "1.11", "1.12"), "linux-x86_64", "cu102", _HIGH,
     f"{MEASURED} §1a/1b (cuda '10.2')"),
    (("1.13", "2.0"), "linux-x86_64", "cu117", _HIGH, f"{MEASURED} §1a/1b (+cu117, nvidia-*-cu11==11.7.99)"),
    (("2.1", "2.2", "2.3", "2.4"), "linux-x86_64", "cu121", _HIGH,
     f"{MEASURED} §1a/1b (+cu121, nvidia-cuda-runtime-cu12==12.1.105)"),
    (("2.5", "2.6"), "linux-x86_64", "cu124", _HIGH, f"{MEASURED} §1a/1b (+cu124, ==12.4.127)"),
    (("2.7",), "linux-x86_64", "cu126", _HIGH, f"{MEASURED} §1a/1b (+cu126, ==12.6.77)"),
    (("2.8", "2.9", "2.10"), "linux-x86_64", "cu128", _HIGH, f"{MEASURED} §1a/1b (+cu128, ==12.8.90)"),
    (("2.11", "2.12", "2.13", "2.14"), "linux-x86_64", "cu130", _HIGH,
     f"{MEASURED} §1a/1b (+cu130, cuda-toolkit==13.0.2 / 13.0.3; §6.1: not cu132)"),
    (("2.15",), "linux-x86_64", "cu132", _HIGH, f"{MEASURED} §1a/1b (+cu132, cuda-toolkit==13.2.2)"),
    (("1.7", "1.8", "1.9", "1.10", "1.11", "1.12", "1.13", "2.0", "2.1", "2.2", "2.3", "2.4", "2.5",
      "2.6", "2.7", "2.8", "2.9", "2.10", "2.11", "2.12", "2.13", "2.14", "2.15"), "windows-x86_64",
     "cpu", _HIGH, f"{MEASURED} §1a/1c (every Windows wheel on PyPI is X+cpu)"),
    (("1.8", "1.9", "1.10", "1.11", "1.12", "1.13", "2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6",
      "2.7", "2.8", "2.9", "2.10"), "linux-aarch64", "cpu", _HIGH, f"{MEASURED} §1a/1c (cuda None)"),
    (("2.11", "2.12", "2.13", "2.14"), "linux-aarch64", "cu130", _HIGH, f"{MEASURED} §1a/1c (+cu130)"),
    (("2.15",), "linux-aarch64", "cu132", _HIGH, f"{MEASURED} §1a/1c (+cu132)"),
)
# macOS wheels have no CUDA (MPS on Apple silicon): whatever the index has is the macOS build.
MACOS_BUILD_SOURCE = "torch.simple (macOS wheels on the package index; no CUDA on macOS)"

# Companion pairs the page, the wheels' own pins and the upload times do not establish
# (companion-evidence.md). (torch, package, companion, confidence, source)
COMPANIONS: tuple[tuple[str, str, str, str, str], ...] = (
    ("1.3.0", "torchaudio", "0.3.1", "low (uploaded 7 days after torch)",
     f"{COMPANION_EVIDENCE} same-day pairing table"),
    ("1.3.1", "torchaudio", "0.3.2", "low (uploaded 2 months after torch; unverified)",
     f"{COMPANION_EVIDENCE} same-day pairing table"),
)
# Hours between a torch release's first upload and a companion's for the two to pair by upload time.
UPLOAD_PAIRING_HOURS = 6.0

# Variants a minor release shipped on the PyTorch index, for releases no page or selector covers.
SHIPPED_CUDA: dict[str, tuple[str, ...]] = {"2.14": ("cu126", "cu130", "cu132", "cpu")}
SHIPPED_CUDA_CONFIDENCE = "medium (REL-md 'Release Compatibility Matrix', 3rd-party copy)"
