"""An explanation as the live explainer's page receives it: JSON, maps as quantised bytes.

The numbers are those of zoo.explain.Explainer, the same computation as the static pages of
`zoo explain`. Maps travel as bytes (each layer quantised to 0-255 over its own range, base64)
and are drawn on small canvases by the page: one forward pass and a few kilobytes per answer,
where PNGs would cost a matplotlib or Pillow encoding per map.
"""

from __future__ import annotations

import base64

import numpy as np

from zoo.explain import Explanation

TOP_CONTRIBUTIONS = 12


def grid(a: np.ndarray, lo: float, hi: float, cmap: str) -> dict:
    """An array (h, w) or (h, w, n) as the page draws it: bytes 0-255 over [lo, hi], base64,
    in (row, column, map) order."""
    a = np.asarray(a, dtype="float32")
    a = a[..., None] if a.ndim == 2 else a
    scale = 255 / (hi - lo) if hi > lo else 0.0
    q = np.clip(np.rint((a - lo) * scale), 0, 255).astype("uint8")
    return {"shape": list(a.shape), "lo": float(lo), "hi": float(hi), "cmap": cmap,
            "data": base64.b64encode(q.tobytes()).decode("ascii")}


def to_json(seen: Explanation, kind: str) -> dict:
    """The Explanation as the page's JSON: the same numbers the static page plots."""
    image = seen.image
    lo, hi = (0.0, 255.0) if kind == "mnist" else (float(image.min()), float(image.max()))
    order = np.argsort(np.abs(seen.contributions))[::-1][:TOP_CONTRIBUTIONS]
    winner = seen.winner
    return {
        "input": grid(image, lo, hi, "viridis" if kind == "audio" else "grey"),
        "classes": list(seen.classes),
        "probabilities": [float(p) for p in seen.probabilities],
        "prediction": winner,
        "filters": [{"layer": f.layer, "averaged": f.averaged,
                     "grid": grid(f.kernels, -(b := float(np.abs(f.kernels).max()) or 1.0), b,
                                  "rdbu")}
                    for f in seen.filters],
        "layers": [{"layer": m.layer, "caption": m.caption, "total": m.total,
                    "grid": grid(m.maps, float(m.maps.min()), float(m.maps.max()), "viridis")}
                   for m in seen.maps],
        "vote": {"layer": seen.vote_layer, "winner": seen.classes[winner],
                 "scores": [float(s) for s in seen.scores],
                 "top": [{"unit": int(i), "value": float(seen.contributions[i])}
                         for i in order]},
    }
