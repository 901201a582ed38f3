from __future__ import annotations

import glob
import os
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SOURCES = REPO / "data" / "sources"  # the matrix inputs, shipped with the project
# no user copy of the matrix from this machine's home may stand in for the shipped one
os.environ["TORCHSETUP_HOME"] = tempfile.mkdtemp(prefix="torchsetup-home-")


def make_venv(path: Path, with_pip: bool = False) -> Path:
    venv.EnvBuilder(with_pip=with_pip, symlinks=True).create(path)
    return path / "bin" / "python"


def site_packages(python: Path) -> Path:
    out = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    return Path(out)


def isolated_pip_env(**extra: str) -> dict[str, str]:
    """An environment in which pip reads no machine-wide config (index, find-links, constraints)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_INPUT="1", PIP_NO_CACHE_DIR="1")
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def bare_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real second interpreter (a venv without pip)."""
    return make_venv(tmp_path_factory.mktemp("bare") / "venv")


def _runner() -> object:
    def run(*args: str, env: dict[str, str] | None = None, input: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        full_env = dict(os.environ if env is None else env)
        full_env["PYTHONPATH"] = str(REPO) + os.pathsep + full_env.get("PYTHONPATH", "")
        return subprocess.run([sys.executable, "-m", "torchsetup", *args], capture_output=True,
                              text=True, env=full_env, input=input, timeout=timeout,
                              stdin=None if input is not None else subprocess.DEVNULL)
    return run


@pytest.fixture
def run_cli() -> Iterator[object]:
    yield _runner()


@pytest.fixture(scope="module")
def run_cli_module() -> Iterator[object]:
    yield _runner()


LOCAL_TORCH = sorted(glob.glob(os.environ.get("TORCHSETUP_TEST_TORCH_WHEEL", "/opt/wheels/torch-*+cpu-*.whl")))


@pytest.fixture(scope="session")
def torch_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the real CPU torch wheel of this machine installed (its dependencies from the
    package index). Skipped, with the reason, where there is no such wheel."""
    if not LOCAL_TORCH:
        pytest.skip("no CPU build of torch on this machine (/opt/wheels/torch-*+cpu-*.whl); "
                    "set TORCHSETUP_TEST_TORCH_WHEEL to one")
    python = make_venv(tmp_path_factory.mktemp("torch") / "venv", with_pip=True)
    proc = subprocess.run([str(python), "-m", "pip", "install", "--quiet", LOCAL_TORCH[-1]],
                          capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        pytest.skip(f"could not install {LOCAL_TORCH[-1]}: {proc.stderr.strip()[-300:]}")
    return python


def read_until(fd: int, marker: bytes) -> bytes:
    """What a terminal (pty controller) shows up to and including `marker`."""
    seen = b""
    while marker not in seen:
        chunk = os.read(fd, 4096)
        assert chunk, seen
        seen += chunk
    return seen


def wait_for(condition: Callable[[], object], seconds: float = 60) -> None:
    """Poll until `condition()` is true; the bound is against a hang, not a timing."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
