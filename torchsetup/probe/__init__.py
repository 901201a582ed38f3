"""probe: what this machine and the target interpreter are. Never imports torch.

`machine.py` gathers a whole Machine (or loads a recorded one); the package itself imports nothing,
so reading a probe document (`model.py`) does not load NVML, nvidia-smi or sysfs readers.
"""
