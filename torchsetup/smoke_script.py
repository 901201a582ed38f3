# mypy: ignore-errors
# (runs in the target interpreter, any Python 3, against an untyped torch)
"""The smoke test, run BY THE TARGET INTERPRETER as a script (never imported by torchsetup).

It prints one JSON object per line: {"event": "start", "check": name} before each check, then
{"event": "check", ...} with its result, so that the parent can tell which check crashed or hung.
Standard library + torch family only, plus torchsetup's cudarules.py loaded by path (torch's
own arch and CUDA_VISIBLE_DEVICES rules, one copy for the resolver and this script).

    python smoke_script.py [--expect nvidia,amd]

--expect names the GPU kinds the machine has (found by the parent without torch): a CUDA build
that cannot use an NVIDIA GPU there, a ROCm build an AMD one, or an XPU build an Intel one, fails
instead of passing on the CPU.
"""

import json
import os
import sys
import time
import warnings


def emit(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def load_rules():
    from importlib import util

    here = os.path.dirname(os.path.abspath(__file__))
    spec = util.spec_from_file_location("torchsetup_cudarules", os.path.join(here, "cudarules.py"))
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def unavailable_reason(rules, cuda_version, hip_version, visible, warning_texts):
    """Why torch.cuda.is_available() is False, in words."""
    if cuda_version is None and hip_version is None:
        return "CPU-only build"
    if visible is not None and not rules.parse_visible_devices(visible):
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


class NoTF32:
    """TF32 off while a check compares with float64 (Ampere and newer use it for float32 matmul
    and cuDNN convolutions by default: errors near 1e-2); the user's settings come back after."""

    def __init__(self, torch):
        self.torch = torch
        self.saved = None

    def __enter__(self):
        backends = self.torch.backends
        self.saved = (backends.cuda.matmul.allow_tf32, backends.cudnn.allow_tf32)
        backends.cuda.matmul.allow_tf32 = False
        backends.cudnn.allow_tf32 = False
        return self

    def __exit__(self, *exc):
        self.torch.backends.cuda.matmul.allow_tf32, self.torch.backends.cudnn.allow_tf32 = self.saved
        return False


def device_facts(torch, rules, index, hip):
    """One GPU as torch sees it, every fallible field read on its own."""
    props = torch.cuda.get_device_properties(index)
    major, minor = props.major, props.minor
    uuid = getattr(props, "uuid", None)
    uuid = None if uuid is None else str(uuid)
    if uuid and not uuid.startswith(("GPU-", "MIG-")) and not hip:
        uuid = "GPU-" + uuid  # NVML's spelling, to join the probe's GPUs
    error = None
    arch = list(torch.cuda.get_arch_list())
    if hip:  # a ROCm build: gfx names (gcnArchName, "gfx90a:sramecc+:xnack-"), no CUDA arch rule
        name = getattr(props, "gcnArchName", None)
        capability = name or f"{major}.{minor}"  # with its feature flags: gfx90a:sramecc+:xnack-
        target = name.split(":")[0] if name else None
        if target and arch and target not in arch:
            error = (f"{props.name or target} is {target}; this build has {', '.join(arch)} "
                     "(expect 'HIP error: invalid device function')")
    else:
        capability = f"{major}.{minor}"
        kind, _ = rules.coverage(arch, major, minor)
        if kind == "none":
            error = (f"{props.name} is sm_{major}{minor}; this build has {', '.join(arch)} "
                     "(expect 'no kernel image is available for execution on the device')")
    return {"index": index, "name": props.name, "capability": capability, "uuid": uuid, "error": error}


def main():
    sys.path[:] = [p for p in sys.path if p not in ("", ".", os.path.dirname(os.path.abspath(__file__)))]
    expect = set()
    if "--expect" in sys.argv:
        expect = {k for k in sys.argv[sys.argv.index("--expect") + 1].split(",") if k}
    rules = load_rules()
    state = {}

    def import_torch():
        import torch

        state["torch"] = torch
        return f"torch {torch.__version__} (CUDA build: {torch.version.cuda or 'none'})"

    if not run_check("import torch", import_torch):
        emit(event="info", torch=None, cuda_available=False, reason="torch cannot be imported")
        emit(event="done")
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

    hip = getattr(torch.version, "hip", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        available = bool(torch.cuda.is_available())
    reason = None
    if not available:
        reason = unavailable_reason(rules, torch.version.cuda, hip, os.environ.get("CUDA_VISIBLE_DEVICES"),
                                    [str(w.message) for w in caught])
    emit(event="info", torch=torch.__version__, cuda=torch.version.cuda, hip=hip, cuda_available=available,
         reason=reason)

    kind = "amd" if hip else ("nvidia" if torch.version.cuda else None)
    if kind is not None:
        gpu = "AMD" if hip else "NVIDIA"

        def gpu_available():
            if available:
                return f"{torch.cuda.device_count()} device(s)"
            if kind in expect:
                build = "ROCm" if hip else "CUDA"
                raise RuntimeError(f"this machine has an {gpu} GPU, but this {build} build of torch cannot "
                                   f"use it: {reason}")
            return (f"not available ({reason}); no {gpu} GPU was found on this machine, so the checks "
                    "ran on the CPU")

        run_check("GPU available", gpu_available)

    if not available and getattr(torch.version, "xpu", None):
        check_xpu(torch, state, expect)
        emit(event="done")
        return
    devices = list(range(torch.cuda.device_count())) if available else [None]
    for index in devices:
        device = "cpu" if index is None else f"cuda:{index}"
        prefix = "" if index is None else f"{device}: "
        if index is not None:
            try:
                emit(event="device", **device_facts(torch, rules, index, hip))
            except Exception as exc:  # one device's trouble never stops the next one
                emit(event="device", index=index, name="?", capability=None, uuid=None,
                     error=f"{type(exc).__name__}: {exc}"[:500])
                continue
        check_device(torch, state, device, prefix, hip)
    emit(event="done")


def check_xpu(torch, state, expect):
    """An XPU build: torch.xpu's devices, each checked as a CUDA device is (against float64 CPU results)."""
    xpu = torch.xpu
    available = bool(xpu.is_available())

    def gpu_available():
        if available:
            return f"{xpu.device_count()} XPU device(s)"
        if "intel" in expect:
            raise RuntimeError("this machine has an Intel GPU, but this XPU build of torch cannot use it "
                               "(check the Intel GPU driver: the wheels need only it)")
        return "no XPU device; no Intel GPU was found on this machine, so the checks ran on the CPU"

    run_check("GPU available", gpu_available)
    for index in (range(xpu.device_count()) if available else [None]):
        device = "cpu" if index is None else f"xpu:{index}"
        if index is not None:
            try:
                props = xpu.get_device_properties(index)
                uuid = getattr(props, "uuid", None)
                emit(event="device", index=index, name=str(props.name), capability=None,
                     uuid=None if uuid is None else str(uuid), error=None)
            except Exception as exc:
                emit(event="device", index=index, name="?", capability=None, uuid=None,
                     error=f"{type(exc).__name__}: {exc}"[:500])
                continue
        check_device(torch, state, device, "" if index is None else f"{device}: ", None)


def check_device(torch, state, device, prefix, hip):
    def alloc():
        x = torch.ones(1024, 1024, device=device)
        return f"{x.numel() * 4 // 1024} KiB on {device}"

    def matmul():
        a = torch.randn(256, 256, dtype=torch.float64)
        b = torch.randn(256, 256, dtype=torch.float64)
        expected = a @ b
        with NoTF32(torch):
            got = (a.to(device).float() @ b.to(device).float()).double().cpu()
        err = float((got - expected).abs().max())
        if not torch.allclose(got, expected, rtol=1e-3, atol=1e-2):
            raise AssertionError(f"matmul differs from the CPU result (max error {err:.3g})")
        return f"max error {err:.2e} against the float64 CPU result"

    def conv():
        import torch.nn.functional as F

        x = torch.randn(2, 3, 32, 32, dtype=torch.float64)
        w = torch.randn(8, 3, 3, 3, dtype=torch.float64)
        ref = F.conv2d(x, w, padding=1)
        with NoTF32(torch):
            y = F.conv2d(x.to(device).float(), w.to(device).float(), padding=1).double().cpu()
        err = float((y - ref).abs().max())
        if not torch.allclose(y, ref, rtol=1e-3, atol=1e-3):
            raise AssertionError(f"convolution differs from the CPU result (max error {err:.3g})")
        if device == "cpu":
            return f"conv2d via CPU, max error {err:.2e}"
        if device.startswith("xpu"):
            return f"conv2d via oneDNN on {device}, max error {err:.2e}"
        library = "MIOpen" if hip else "cuDNN"
        version = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
        used = f"{library} {version}" if version else f"{library} not available (native kernels)"
        return f"conv2d via {used}, max error {err:.2e}"

    run_check(f"{prefix}allocate", alloc)
    run_check(f"{prefix}matmul", matmul)
    run_check(f"{prefix}conv2d", conv)
    if "torchvision" in state:
        def nms():
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
        def audio():
            import torchaudio

            wave = torch.sin(torch.linspace(0, 100, 16000, device=device)).unsqueeze(0)
            spec = torchaudio.transforms.Spectrogram(n_fft=400).to(device)(wave)
            return f"Spectrogram {tuple(spec.shape)}"
        run_check(f"{prefix}torchaudio spectrogram", audio)


if __name__ == "__main__":
    main()
