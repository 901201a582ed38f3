"""A FAKE torch.cuda, layered on the real CPU torch, for what only a GPU shows.

Imported at interpreter start (this folder goes on PYTHONPATH) when TORCHSETUP_FAKE_CUDA holds a
JSON description; otherwise it does nothing. The real torch is imported and only the CUDA surface
the smoke test touches is replaced: devices and their properties, the arch list, availability
(CUDA_VISIBLE_DEVICES honoured as CUDA does), and "cuda:N" tensors that really live on the CPU.
TF32 is emulated where a GPU would use it (float32 matmul and cuDNN convolutions with TF32
allowed: inputs cut to 10 mantissa bits), so a check that forgets to turn it off sees its errors.

    {"build_cuda": "12.8", "hip": null, "arch": ["sm_80", ...],
     "devices": [{"name": ..., "major": 8, "minor": 0, "uuid": "...", "gcn": null,
                  "fail": "props" | null, "hang": "matmul" | null}],
     "warning": "CUDA initialization: ... (found version 11040)" | null,
     "xpu": {"version": "20250101", "devices": [{"name": "Intel(R) Arc(TM) B580 Graphics"}]} | null}

With "xpu" the build is an XPU build (no CUDA): torch.xpu answers from that list and "xpu:N"
tensors live on the CPU, as "cuda:N" ones do.
"""

import json
import os

_RAW = os.environ.get("TORCHSETUP_FAKE_CUDA")
if _RAW:
    import importlib.util

    if importlib.util.find_spec("torch") is None:  # an interpreter without torch (torchsetup's own)
        _RAW = None

if _RAW:
    import time
    import uuid as _uuid
    import warnings

    import torch
    import torch.nn.functional as _F

    _CFG = json.loads(_RAW)
    _DEVICES = _CFG.get("devices", [])
    torch.version.cuda = _CFG.get("build_cuda", "12.8")
    torch.version.hip = _CFG.get("hip")
    _XPU = _CFG.get("xpu")
    if _XPU is not None:
        torch.version.cuda = None
        torch.version.xpu = _XPU.get("version", "20250101")
        _DEVICES = []
        torch.xpu.is_available = lambda: bool(_XPU["devices"])
        torch.xpu.device_count = lambda: len(_XPU["devices"])

        class _XpuProps:
            def __init__(self, spec):
                self.name = spec["name"]
                self.total_memory = 1 << 34

        torch.xpu.get_device_properties = lambda index: _XpuProps(_XPU["devices"][index])
    if torch.version.hip:
        torch.version.cuda = None

    def _visible():
        value = os.environ.get("CUDA_VISIBLE_DEVICES")
        if value is None:
            return list(range(len(_DEVICES)))
        out = []
        for part in value.split(","):
            part = part.strip()
            if not part.isdigit() or int(part) >= len(_DEVICES):
                break
            if int(part) in out:
                return []  # CUDA: a repeated ordinal leaves no device visible
            out.append(int(part))
        return out

    def is_available():
        if _CFG.get("warning"):
            warnings.warn(_CFG["warning"], stacklevel=2)
            return False
        return bool(_visible())

    torch.cuda.is_available = is_available
    torch.cuda.device_count = lambda: len(_visible()) if is_available() else 0
    torch.cuda.get_arch_list = lambda: list(_CFG.get("arch", []))

    class _Props:
        def __init__(self, spec):
            self.name = spec["name"]
            self.major, self.minor = spec["major"], spec["minor"]
            self.total_memory = 1 << 34
            if spec.get("uuid"):
                self.uuid = _uuid.UUID(spec["uuid"])
            if spec.get("gcn"):
                self.gcnArchName = spec["gcn"]

    def get_device_properties(index):
        spec = _DEVICES[_visible()[index]]
        if spec.get("fail") == "props":
            raise RuntimeError("CUDA error: unspecified launch failure")
        return _Props(spec)

    torch.cuda.get_device_properties = get_device_properties
    torch.cuda.get_device_capability = lambda i=0: (get_device_properties(i).major, get_device_properties(i).minor)
    torch.cuda.get_device_name = lambda i=0: get_device_properties(i).name

    _current = {"device": None}

    def _map(device):
        if isinstance(device, torch.device):
            device = str(device)
        if isinstance(device, str) and device.startswith("cuda"):
            index = int(device.split(":")[1]) if ":" in device else 0
            _current["device"] = _DEVICES[_visible()[index]]
            return "cpu"
        if isinstance(device, str) and device.startswith("xpu") and _XPU is not None:
            index = int(device.split(":")[1]) if ":" in device else 0
            _current["device"] = _XPU["devices"][index]
            return "cpu"
        return device

    def _wrap_factory(name):
        original = getattr(torch, name)

        def factory(*args, **kwargs):
            if "device" in kwargs:
                kwargs["device"] = _map(kwargs["device"])
            return original(*args, **kwargs)
        setattr(torch, name, factory)

    for _name in ("ones", "zeros", "randn", "tensor", "linspace", "empty"):
        _wrap_factory(_name)

    _tensor_to = torch.Tensor.to
    torch.Tensor.to = lambda self, *a, **k: _tensor_to(self, *[_map(x) for x in a],
                                                       **{key: _map(v) for key, v in k.items()})
    _module_to = torch.nn.Module.to
    torch.nn.Module.to = lambda self, *a, **k: _module_to(self, *[_map(x) for x in a],
                                                          **{key: _map(v) for key, v in k.items()})

    def _tf32(t):
        return (t.contiguous().view(torch.int32) & ~0x1FFF).view(torch.float32)

    def _on_gpu():
        return _current["device"] is not None

    def _hang(op):
        if _on_gpu() and _current["device"].get("hang") == op:
            time.sleep(3600)

    _matmul = torch.Tensor.__matmul__

    def matmul(self, other):
        _hang("matmul")
        if _on_gpu() and self.dtype == torch.float32 and torch.backends.cuda.matmul.allow_tf32:
            self, other = _tf32(self), _tf32(other)
        return _matmul(self, other)

    torch.Tensor.__matmul__ = matmul
    _conv2d = _F.conv2d

    def conv2d(x, w, *args, **kwargs):
        _hang("conv2d")
        if _on_gpu() and x.dtype == torch.float32 and torch.backends.cudnn.allow_tf32:
            x, w = _tf32(x), _tf32(w)
        return _conv2d(x, w, *args, **kwargs)

    _F.conv2d = conv2d
    torch.backends.cudnn.version = lambda: _CFG.get("cudnn", 91000)
    torch.backends.cudnn.is_available = lambda: _CFG.get("cudnn", 91000) is not None
