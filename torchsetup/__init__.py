"""torchsetup: pick, install and prove the PyTorch build that runs on this machine."""

__version__ = "0.1.0"
