"""python -m zoo.explain_ui [--host H] [--port P] [MODEL]   the live explainer (= zoo explain --serve)
python -m zoo.explain_ui --bench [--repeat 20]              its server-side time per shipped weight

The bench sends what the page sends, through the whole Flask app (without the socket): for the
MNIST nets, drawings as the canvas makes them (MNIST test digits scaled to 280x280, black ink on
white, PNG); for the X/O nets the lecture's X; for audio_conv an FSDD recording. It prints the
first answer (load, probe, first pass) and the median, 95th percentile and maximum of the next.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import platform
import sys
import time

import numpy as np


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def drawings(n: int) -> list[str]:
    """n canvas-like PNG data URLs: MNIST test digits, 280x280, black on white."""
    from PIL import Image

    import zoo.data

    (_, _), (x_test, _) = zoo.data.load_mnist()
    urls = []
    for digit in x_test[:n]:
        buf = io.BytesIO()
        Image.fromarray(255 - digit).resize((280, 280), Image.BILINEAR).save(buf, "PNG")
        urls.append("data:image/png;base64," + base64.b64encode(buf.getvalue()).decode())
    return urls


def bench(repeat: int = 20) -> list[dict]:
    import zoo
    from zoo.explain_ui import create_app, fsdd_recordings

    client = create_app().test_client()
    pictures = drawings(repeat + 1)
    recordings = fsdd_recordings()
    rows = []
    for name in zoo.list_weights():
        kind = zoo.weight_info(name).input_kind
        if kind == "mnist":
            sources = [{"kind": "picture", "value": p} for p in pictures]
        elif kind == "xo":
            sources = [{"kind": "xo", "value": "X"}] * (repeat + 1)
        elif recordings:
            sources = [{"kind": "fsdd", "value": r} for r in recordings[:repeat + 1]]
        else:
            continue
        times, size = [], 0
        for source in sources:
            start = time.perf_counter()
            response = client.post("/api/explain", json={"model": name, "input": source})
            times.append(1000 * (time.perf_counter() - start))
            if response.status_code != 200:
                raise RuntimeError(f"{name}: {response.get_json()['error']}")
            size = len(response.data)
        rest = np.array(times[1:])
        rows.append({"weight": name, "input": kind, "first_ms": times[0],
                     "median_ms": float(np.median(rest)), "p95_ms": float(np.percentile(rest, 95)),
                     "max_ms": float(rest.max()), "kb": size / 1024})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zoo.explain_ui", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", help="the weight the page opens with")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8050)
    parser.add_argument("--bench", action="store_true", help="time the answers, then exit")
    parser.add_argument("--repeat", type=int, default=20, help="with --bench: answers timed "
                        "per weight after the first")
    args = parser.parse_args(argv)
    if not args.bench:
        from zoo.explain_ui import serve

        return serve(args.host, args.port, args.model)
    if args.repeat < 1:
        print("error: --repeat must be at least 1", file=sys.stderr)
        return 2
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}; {args.repeat} timed answers per weight")
    print(f"{'weight':22} {'input':6} {'first ms':>9} {'median ms':>10} {'p95 ms':>8} "
          f"{'max ms':>8} {'answer KB':>10}")
    for r in bench(args.repeat):
        print(f"{r['weight']:22} {r['input']:6} {r['first_ms']:9.0f} {r['median_ms']:10.1f} "
              f"{r['p95_ms']:8.1f} {r['max_ms']:8.1f} {r['kb']:10.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
