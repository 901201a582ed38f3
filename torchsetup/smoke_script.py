# mypy: ignore-errors
# (runs in the target interpreter, any Python 3, against an untyped torch)
"""The smoke test, run BY THE TARGET INTERPRETER as a script (never imported by torchsetup).

It prints one JSON object per line: {"event": "start", "check": name} before each check, then
{"event": "check", ...} with its result, so that the parent can tell which check crashed or hung.
Standard library + torch family only; works on any Python the target may be.
"""

import json
import os
import sys
import time
import warnings


def emit(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def arch_covers(arch_list, major, minor):
    """torch's own rule: SASS of the same major with minor <= the GPU's, or PTX <= the GPU's."""
    for arch in arch_list:
        kind, _, number = arch.partition("_")
        if not number.isdigit():
            continue
        value = int(number)
        if kind == "sm" and value // 10 == major and value % 10 <= minor:
            return True
        if kind == "compute" and value <= major * 10 + minor:
            return True
    return False


def unavailable_reason(cuda_version, hip_version, visible, warning_texts):
    """Why torch.cuda.is_available() is False, in words."""
    if cuda_version is None and hip_version is None:
        return "CPU-only build"
    if visible is not None and visible.strip() in ("", "-1"):
        return f"CUDA_VISIBLE_DEVICES={visible!r} hides all devices"
    if warning_texts:
        return warning_texts[0].split("\n")[0][:300]
    return "no CUDA device visible (no NVIDIA driver or GPU found by the CUDA runtime)"


def run_check(name, fn):
    emit(event="start", check=name)
    started = time.perf_counter()
    try:
        detail = fn()
        ok = True
    except Exception as exc:  # one failing check never stops the others
        detail = f"{type(exc).__name__}: {exc}".strip()[:500]
        ok = False
    emit(event="check", name=name, ok=ok, detail=None if detail is None else str(detail),
         seconds=round(time.perf_counter() - started, 4))
    return ok


def main():
    sys.path[:] = [p for p in sys.path if p not in ("", ".", os.path.dirname(__file__))]
    state = {}

    def import_torch():
        import torch

        state["torch"] = torch
        return f"torch {torch.__version__} (CUDA build: {torch.version.cuda or 'none'})"

    if not run_check("import torch", import_torch):
        emit(event="info", torch=None, cuda_available=False, reason="torch cannot be imported")
        return
    torch = state["torch"]

    def import_optional(name):
        def check():
            module = __import__(name)
            state[name] = module
            return f"{name} {module.__version__}"
        return check

    from importlib import util

    for name in ("torchvision", "torchaudio"):
        if util.find_spec(name) is not None:
            run_check(f"import {name}", import_optional(name))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        available = bool(torch.cuda.is_available())
    reason = None
    if not available:
        reason = unavailable_reason(torch.version.cuda, getattr(torch.version, "hip", None),
                                    os.environ.get("CUDA_VISIBLE_DEVICES"),
                                    [str(w.message) for w in caught])
    emit(event="info", torch=torch.__version__, cuda=torch.version.cuda, cuda_available=available,
         reason=reason, arch_list=list(torch.cuda.get_arch_list()) if available else [])

    devices = [f"cuda:{i}" for i in range(torch.cuda.device_count())] if available else ["cpu"]
    for device in devices:
        prefix = "" if device == "cpu" else f"{device}: "
        if device != "cpu":
            index = int(device.split(":")[1])
            major, minor = torch.cuda.get_device_capability(index)
            name = torch.cuda.get_device_name(index)
            arch = torch.cuda.get_arch_list()
            covered = arch_covers(arch, major, minor)
            emit(event="device", index=index, name=name, capability=f"{major}.{minor}",
                 error=None if covered else f"{name} is sm_{major}{minor}; this build has {', '.join(arch)}")

        def alloc(device=device):
            x = torch.ones(1024, 1024, device=device)
            return f"{x.numel() * 4 // 1024} KiB on {device}"

        def matmul(device=device):
            a = torch.randn(256, 256, dtype=torch.float64)
            b = torch.randn(256, 256, dtype=torch.float64)
            expected = a @ b
            got = (a.to(device).float() @ b.to(device).float()).double().cpu()
            err = float((got - expected).abs().max())
            if not torch.allclose(got, expected, rtol=1e-3, atol=1e-2):
                raise AssertionError(f"matmul differs from the CPU result (max error {err:.3g})")
            return f"max error {err:.2e} against the float64 CPU result"

        def conv(device=device):
            import torch.nn.functional as F

            x = torch.randn(2, 3, 32, 32, device=device)
            w = torch.randn(8, 3, 3, 3, device=device)
            y = F.conv2d(x, w, padding=1)
            ref = F.conv2d(x.cpu(), w.cpu(), padding=1)
            if not torch.allclose(y.cpu(), ref, rtol=1e-3, atol=1e-3):
                raise AssertionError("convolution differs from the CPU result")
            backend = "cuDNN " + str(torch.backends.cudnn.version()) if device != "cpu" else "CPU"
            return f"conv2d via {backend}"

        run_check(f"{prefix}allocate", alloc)
        run_check(f"{prefix}matmul", matmul)
        run_check(f"{prefix}conv2d", conv)
        if "torchvision" in state:
            def nms(device=device):
                from torchvision.ops import nms as tv_nms

                boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]],
                                     dtype=torch.float32, device=device)
                scores = torch.tensor([0.9, 0.8, 0.7], device=device)
                keep = tv_nms(boxes, scores, 0.5).cpu().tolist()
                if keep != [0, 2]:
                    raise AssertionError(f"nms kept {keep}, expected [0, 2]")
                return "torchvision.ops.nms"
            run_check(f"{prefix}torchvision nms", nms)
        if "torchaudio" in state:
            def audio(device=device):
                import torchaudio

                wave = torch.sin(torch.linspace(0, 100, 16000, device=device)).unsqueeze(0)
                spec = torchaudio.transforms.Spectrogram(n_fft=400).to(device)(wave)
                return f"Spectrogram {tuple(spec.shape)}"
            run_check(f"{prefix}torchaudio spectrogram", audio)
    emit(event="done")


if __name__ == "__main__":
    main()
