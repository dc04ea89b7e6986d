"""Facts name code as "package.module:attribute" strings, resolved only when the code is needed:
that keeps `import zoo` and `zoo list` free of Keras and TensorFlow (issue 13)."""

from __future__ import annotations

import importlib


def resolve(path: str):
    """The object named by "package.module:attribute"."""
    module, _, attribute = path.partition(":")
    if not attribute:
        raise ValueError(f"{path!r} is not a 'module:attribute' path")
    return getattr(importlib.import_module(module), attribute)
