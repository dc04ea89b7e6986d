"""The figures behind `zoo predict`'s speech check (zoo.audio.SPEECH_FLATNESS, docs/audio.md),
measured rather than typed: `python -m reproductions audio-flatness >
reproductions/results/audio_flatness.txt`.

It prints the spectral flatness of FSDD's 3,000 recordings by split (the lowest and highest with
their files, the median), of pure tones and of seeded white and brown noise, each as
`read_recording` gives a WAV to the net, and what `audio_conv.fsdd` answers to each tone: the
sounds a net trained only on spoken digits still answers with confidence. Nothing here is timed,
so the file is the same on every machine with the same packages.
"""

from __future__ import annotations

import io
import statistics
import sys
from pathlib import Path

import numpy as np

RATE = 8000
TONES_HZ = (50, 440, 1000, 3900)
NOISE_SEEDS = (0, 1, 2)


def _wav(samples: np.ndarray) -> bytes:
    """16-bit PCM WAV bytes at 8 kHz: the sound as a user's file would bring it."""
    from scipy.io import wavfile

    buffer = io.BytesIO()
    wavfile.write(buffer, RATE, (np.clip(samples, -1, 1) * 32767).astype(np.int16))
    return buffer.getvalue()


def tone(hz: float) -> np.ndarray:
    return 0.5 * np.sin(2 * np.pi * hz * np.arange(RATE) / RATE)


def white(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-0.5, 0.5, RATE)


def brown(seed: int) -> np.ndarray:
    """White noise summed over time: power falling with frequency, as speech's does."""
    walk = np.cumsum(np.random.default_rng(seed).uniform(-1, 1, RATE))
    walk -= walk.mean()
    return 0.5 * walk / np.abs(walk).max()


def _split(rows: list[tuple[str, float]], label: str) -> str:
    low, high = min(rows, key=lambda r: r[1]), max(rows, key=lambda r: r[1])
    median = statistics.median(f for _, f in rows)
    return (f"FSDD {label} ({len(rows)} recordings): lowest {low[1]:.4f} ({low[0]}), median "
            f"{median:.4f}, highest {high[1]:.4f} ({high[0]})")


def run(args=None) -> int:
    """The `audio-flatness` verb."""
    import zoo
    from zoo.audio import SPEECH_FLATNESS, read_recording, spectral_flatness, spectrogram
    from zoo.data import DataError, fsdd

    try:
        folder = fsdd.source_of()
    except DataError as err:  # ZOO_DATA_DIR without the recordings
        print(f"error: {err}", file=sys.stderr)
        return 2
    if folder == "tensorflow-datasets":
        print("error: audio-flatness reads FSDD's WAV files: point ZOO_DATA_DIR at a folder "
              "holding fsdd/recordings/*.wav, e.g. export ZOO_DATA_DIR=../shared/data",
              file=sys.stderr)
        return 2

    def flatness(raw: bytes, name: str) -> float:
        return spectral_flatness(read_recording(raw, name, []))

    split = {"train": [], "test": []}
    for path in sorted(Path(folder).glob("*.wav")):
        part = fsdd.official_split(path.name)  # None: another file beside the recordings
        if part is not None:
            split[part].append((path.name, flatness(path.read_bytes(), path.name)))
    train, test = split["train"], split["test"]
    if len(train) + len(test) != 3000:
        print(f"error: {folder} holds {len(train) + len(test)} FSDD recordings, not 3,000: "
              "the figures are of the whole set", file=sys.stderr)
        return 2
    print(f"spectral flatness (zoo.audio.spectral_flatness; the speech range SPEECH_FLATNESS: "
          f"{SPEECH_FLATNESS[0]:g}-{SPEECH_FLATNESS[1]:g}), each sound as read_recording gives "
          "it (8 kHz, at most 1 s)")
    print(_split(train, "training split"))
    print(_split(test, "test split, recordings 0-4 of each speaker"))
    net = zoo.load("audio_conv.fsdd")
    classes = zoo.weight_info("audio_conv.fsdd").classes
    for hz in TONES_HZ:
        samples = read_recording(_wav(tone(hz)), f"tone {hz} Hz", [])
        probs = net.predict(spectrogram(samples)[None], verbose=0)[0]
        print(f"pure tone {hz} Hz at half scale: {spectral_flatness(samples):.2g}; audio_conv.fsdd "
              f"answers {classes[int(probs.argmax())]} at {probs.max():.3f}")
    for name, make in (("white noise", white), ("brown noise", brown)):
        values = [flatness(_wav(make(seed)), f"{name} {seed}") for seed in NOISE_SEEDS]
        print(f"{name}, seeds {', '.join(map(str, NOISE_SEEDS))}: "
              + ", ".join(f"{v:.4f}" for v in values))
    return 0
