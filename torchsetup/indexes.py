"""The package indexes torchsetup plans against. A leaf module."""

PYTORCH_INDEX_BASE = "https://download.pytorch.org/whl"  # the PyTorch wheel index, one folder per variant
PYPI_SIMPLE = "https://pypi.org/simple"  # the Python Package Index, where a py3-none companion lives
