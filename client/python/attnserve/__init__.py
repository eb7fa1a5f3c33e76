"""attnserve: the Python client of attnserve (docs/python.md).

    import attnserve
    with attnserve.Client("localhost:8500") as client:
        result = client.classify(x, "demo")          # x: [steps, features]
        print(result.label, result.probability)
        print(result.attention["temporal"])          # one weight per step
        attnserve.plot_attention(result).savefig("attention.png")

attnserve.Client (blocking) and attnserve.aio.Client (asyncio); results are
attnserve.Result objects with numpy arrays; failed calls raise
attnserve.errors.AttnServeError subclasses; plot_attention draws every
attention map with matplotlib.

Names are imported on first use, so `attnserve.plot` works with only numpy and
matplotlib installed, and `import attnserve` loads no gRPC until a client is made.
"""
from attnserve._version import __version__

_LAZY = {
    "Client": ("attnserve.client", "Client"),
    "TLS": ("attnserve._channel", "TLS"),
    "plot_attention": ("attnserve.plot", "plot_attention"),
    "Result": ("attnserve.types", "Result"),
    "Results": ("attnserve.types", "Results"),
    "TopClass": ("attnserve.types", "TopClass"),
    "Timing": ("attnserve.types", "Timing"),
    "ModelMetadata": ("attnserve.types", "ModelMetadata"),
    "AttentionInfo": ("attnserve.types", "AttentionInfo"),
    "Model": ("attnserve.types", "Model"),
    "ModelVersion": ("attnserve.types", "ModelVersion"),
    "StreamAnswer": ("attnserve.types", "StreamAnswer"),
    "AttnServeError": ("attnserve.errors", "AttnServeError"),
}
_SUBMODULES = ("aio", "errors", "plot", "layout", "types")

__all__ = ["__version__", *_LAZY, *_SUBMODULES]


def __getattr__(name):
    import importlib
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"attnserve.{name}")
    else:
        raise AttributeError(f"module 'attnserve' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
