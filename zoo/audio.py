"""Turn any WAV recording of a spoken digit into what the zoo's audio nets hear: 1 s, mono, 8 kHz.

The nets were trained on FSDD (mono 16-bit PCM at 8 kHz, 0.14-2.3 s of speech each). A user's
file may differ in every way; each difference is either converted, with a note saying what was
done (the caller prints the notes), or refused with a message saying what to do:

- PCM of 8, 16, 24 or 32 bits and float WAVs are read (scipy.io.wavfile); other encodings
  (ADPCM, mu-law...) are refused with the ffmpeg command that converts them.
- Other sample rates are resampled to 8 kHz (scipy.signal.resample_poly: a polyphase filter,
  exact rational ratio, with anti-aliasing).
- Several channels are averaged into one.
- Longer than one second: the loudest second is used (up to MAX_SECONDS; longer is refused, as
  it holds more than one digit).
- Silence (peak below SILENT_DBFS) and clips shorter than MIN_SECONDS are refused, as a blank
  picture is: a net would give them a confident, meaningless answer.
- A header saying 0 channels, or a sample rate outside MIN_RATE-MAX_RATE (1 Hz, say), is
  refused: the file is damaged, or cannot hold speech as the nets heard it.
- A sound that is not speech-like (a pure tone, white noise: `spectral_flatness` outside
  SPEECH_FLATNESS, the range of every FSDD recording with a margin) is still answered, with a
  note that the answer is unreliable: the nets were never shown anything but spoken digits, and
  answer anything with confidence.

What the nets hear is then a log-mel spectrogram (`spectrograms`, the one computation of it, for
a user's file as for the FSDD data set, zoo.data.fsdd): 1 s of audio (padded or cut), 32 ms
frames every 16 ms, 64 mel bands up to 4 kHz, log -> a 64 x 61 image, frequency bands as rows and
time as columns. This module is below the data set: zoo.data.fsdd imports it, never the reverse.

scipy is pinned in requirements.txt (MLflow needed it already). Reading a recording needs no
TensorFlow; the spectrogram uses TensorFlow's own ops (tf.signal), imported inside the function
that computes it, so that importing this module loads no TensorFlow.
"""

from __future__ import annotations

import io
import math
import struct
import warnings
from pathlib import Path

import numpy as np

from zoo.data.idx import DataError

RATE = 8000
SAMPLES = RATE  # one second
# FSDD's shortest recording lasts 0.1435 s and its quietest peaks at -39.6 dBFS; these bounds
# leave a wide margin below both, so no real spoken digit is refused.
MIN_SECONDS = 0.1
SILENT_DBFS = -50.0
MAX_SECONDS = 60.0
# Sample rates a spoken digit can come in. 8 kHz, FSDD's own and the telephone's, is the lowest
# rate speech is stored at: the nets hear mel bands up to 4 kHz, and a file at a lower rate holds
# nothing above half its rate, which no resampling brings back (part of every picture would be
# blank, as no FSDD recording ever was). 384 kHz is the highest rate audio interfaces record
# at; above it, or at 1 Hz, the header is damaged or the file is not a recording of speech.
MIN_RATE, MAX_RATE = RATE, 384_000
# The spectral flatness (spectral_flatness) of a speech-like sound. FSDD's 2,700 training
# recordings, as read_recording gives them, measure 0.0012 (4_jackson_19) to 0.39 (6_theo_33),
# median 0.06; its 300 test recordings 0.0058 to 0.23. The bounds keep them all with a margin of
# about 10x below and 1.8x above, and stay far from what is not speech: pure tones at 8 kHz
# measure a few 1e-9 (50 Hz to 3.9 kHz), white noise about 0.99 (the figures:
# reproductions/results/audio_flatness.txt, `python -m reproductions audio-flatness`).
SPEECH_FLATNESS = (1e-4, 0.7)
FRAME, STEP, MELS = 256, 128, 64
SHAPE = (MELS, 1 + (SAMPLES - FRAME) // STEP)  # (64, 61)


class RecordingNote(UserWarning):
    """What was done to a recording on the way, or what to doubt in its answer, warned when the
    caller passes no notes list (the `zoo` command prints these as `note:` lines)."""


class AudioError(DataError):
    """A recording the audio nets cannot hear: unreadable, silent, too short or too long."""


def _channels_in_header(raw: bytes) -> int | None:
    """The channel count of the WAV's fmt chunk, or None when there is no readable one (then
    scipy's reader says what is wrong). Read here because scipy divides by it: a header saying 0
    channels raised ZeroDivisionError from inside scipy."""
    at = 12
    while at + 8 <= len(raw):
        chunk, size = raw[at:at + 4], int.from_bytes(raw[at + 4:at + 8], "little")
        if chunk == b"fmt ":
            return int.from_bytes(raw[at + 10:at + 12], "little") if at + 12 <= len(raw) \
                else None
        at += 8 + size + size % 2  # chunks are padded to an even length
    return None


def _to_float(samples: np.ndarray, name: str) -> np.ndarray:
    """float32 in [-1, 1] from scipy's dtypes (24-bit PCM arrives as int32, left-justified)."""
    kind = samples.dtype
    if kind == np.uint8:
        return (samples.astype("float32") - 128.0) / 128.0
    if kind in (np.int16, np.int32, np.int64):
        return (samples.astype("float64") / float(2 ** (8 * kind.itemsize - 1))).astype("float32")
    if kind in (np.float32, np.float64):
        return np.clip(samples, -1.0, 1.0).astype("float32")
    raise AudioError(f"{name}: WAV samples of type {kind} are not supported; convert to 16-bit "
                     f"PCM: ffmpeg -i {name} -ac 1 -ar {RATE} -c:a pcm_s16le out.wav")


def read_recording(raw: bytes, name: str = "recording", notes: list[str] | None = None):
    """float32 samples, mono, at 8 kHz, at most one second long, from the bytes of a WAV file.

    Each conversion made is described in `notes` (a list the caller prints); without a list, as
    a warning, so that nothing is changed silently."""
    from scipy.io import wavfile
    from scipy.signal import resample_poly

    said = notes if notes is not None else []
    if raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise AudioError(f"{name}: not a WAV file (no RIFF/WAVE header); the audio nets hear "
                         "spoken digits recorded as WAV")
    if _channels_in_header(raw) == 0:
        raise AudioError(f"{name}: the WAV header says 0 channels, so it holds no sound a "
                         "reader can find; the file is damaged: record or export it again "
                         f"(mono, {RATE} Hz, 16-bit PCM)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unknown chunks (LIST, cue...) are skipped: harmless
            rate, samples = wavfile.read(io.BytesIO(raw))
    except ValueError as err:
        text = str(err)
        if "format" in text.lower():  # e.g. "Unknown wave file format: ... Supported formats..."
            raise AudioError(
                f"{name}: a WAV encoding this reader does not decode ({text.splitlines()[0]}); "
                f"convert it to PCM: ffmpeg -i {name} -ac 1 -ar {RATE} -c:a pcm_s16le out.wav"
            ) from err
        raise AudioError(f"{name}: corrupt or truncated WAV ({text})") from err
    except (EOFError, OSError, struct.error) as err:
        raise AudioError(f"{name}: corrupt or truncated WAV ({err})") from err
    except ZeroDivisionError as err:  # a block size of 0 in the header: scipy divides by it
        raise AudioError(f"{name}: corrupt WAV header (a size of 0 where scipy divides by it); "
                         "record or export the file again") from err
    except UnboundLocalError as err:  # no "fmt " chunk before the data: scipy never set its rate
        raise AudioError(f"{name}: corrupt WAV, no format chunk (the part that says its rate "
                         "and sample size); record or export the file again") from err
    if not MIN_RATE <= rate <= MAX_RATE:
        why = (f"below {MIN_RATE} Hz a file holds nothing above half its rate, and the nets "
               "hear up to 4 kHz" if rate < MIN_RATE else "a damaged header, or not speech")
        raise AudioError(f"{name}: sampled at {rate} Hz, outside {MIN_RATE}-{MAX_RATE} Hz "
                         f"({why}); record or export it again at a rate in that range "
                         f"(FSDD's: {RATE} Hz)")
    samples = _to_float(samples, name)
    if samples.ndim == 2:
        if samples.shape[1] > 1:
            said.append(f"{name}: {samples.shape[1]} channels averaged into one (mono)")
        samples = samples.mean(axis=1, dtype="float32")
    seconds = len(samples) / rate if rate else 0.0
    if seconds < MIN_SECONDS:
        raise AudioError(f"{name}: {seconds:.3f} s of audio, too short for a spoken digit "
                         f"(at least {MIN_SECONDS} s; FSDD's last 0.14 to 2.3 s)")
    if seconds > MAX_SECONDS:
        raise AudioError(f"{name}: {seconds:.1f} s of audio; the net hears one digit, about a "
                         f"second: cut the recording to the digit (at most {MAX_SECONDS:.0f} s), "
                         f"e.g. ffmpeg -i {name} -ss START -t 1 out.wav")
    if rate != RATE:
        g = math.gcd(int(rate), RATE)
        samples = resample_poly(samples, RATE // g, int(rate) // g).astype("float32")
        said.append(f"{name}: resampled from {rate} Hz to {RATE} Hz")
    peak = float(np.abs(samples).max())
    dbfs = 20 * math.log10(peak) if peak > 0 else -math.inf
    if dbfs < SILENT_DBFS:
        raise AudioError(f"{name}: silent (peak level {dbfs:.0f} dBFS, below {SILENT_DBFS:.0f}); "
                         "no spoken digit to hear")
    if len(samples) > SAMPLES:
        # the loudest second: the most energy in a 1-s window (cumulative sums, one pass)
        energy = np.concatenate([[0.0], np.cumsum(samples.astype("float64") ** 2)])
        loudest = int(np.argmax(energy[SAMPLES:] - energy[:-SAMPLES]))
        # FSDD's recordings start with the word: start there too (20 ms before the first sample
        # within 20 dB of that window's peak), not wherever the window happened to begin
        window = np.abs(samples[loudest:loudest + SAMPLES])
        onset = loudest + int(np.argmax(window >= 0.1 * window.max()))
        start = min(max(0, onset - RATE // 50), len(samples) - SAMPLES)
        said.append(f"{name}: {seconds:.2f} s long; the net hears one second, the loudest: "
                    f"{start / RATE:.2f}-{start / RATE + 1:.2f} s")
        samples = samples[start:start + SAMPLES]
    unlike_speech = speech_note(samples, name)
    if unlike_speech:
        said.append(unlike_speech)
    if notes is None:
        for note in said:
            warnings.warn(note, RecordingNote, stacklevel=2)
    return samples


def spectral_flatness(samples: np.ndarray) -> float:
    """How noise-like the recording's long-term spectrum is, from 0 (all energy at one
    frequency: a pure tone) to 1 (the same energy at every frequency: white noise).

    Why this measure: a net trained only on spoken digits answers any sound with confidence (a
    pure tone at 8 kHz is a digit at 0.7 to 0.99), so the zoo needs a cheap, explainable sign
    that a sound is unlike its training data (reproductions/results/audio_flatness.txt: what it
    answers to tones, and the flatness of FSDD's recordings, tones and noise, measured by
    `python -m reproductions audio-flatness`). Speech sits between the two extremes: voiced
    sounds put their energy in a few harmonics and formants, mostly below 1 kHz, with
    consonants' noise above, so its average spectrum is neither one line nor flat. Spectral
    flatness (the geometric over the arithmetic mean of the power spectrum, also called Wiener
    entropy; MPEG-7's AudioSpectrumFlatness) says exactly that in one number: SPEECH_FLATNESS is
    the range of every FSDD recording with a margin, tones fall below it and noise above
    (tests/test_reliability_inputs.py measures all three).

    Computed on what the net hears (8 kHz, at most one second), with the spectrogram's frames
    (FRAME samples every STEP, Hann window), their power averaged over time so that loud frames
    count most and silences little; the DC bin is left out (a microphone's offset is no sound).
    numpy only: no TensorFlow to read a file."""
    x = np.asarray(samples, dtype="float64")
    if len(x) < FRAME:
        x = np.pad(x, (0, FRAME - len(x)))
    starts = np.arange(0, len(x) - FRAME + 1, STEP)
    frames = x[starts[:, None] + np.arange(FRAME)] * np.hanning(FRAME)
    power = (np.abs(np.fft.rfft(frames, axis=1)) ** 2).mean(axis=0)[1:]
    mean = power.mean()
    if mean <= 0:
        return 0.0
    # a floor 200 dB under the mean: a digital tone's empty bins give a small number, not log(0)
    power = np.maximum(power, mean * 1e-20)
    return float(np.exp(np.log(power).mean()) / mean)


def speech_note(samples: np.ndarray, name: str) -> str | None:
    """The note for a sound that is not speech-like (see spectral_flatness), or None."""
    flatness = spectral_flatness(samples)
    low, high = SPEECH_FLATNESS
    if low <= flatness <= high:
        return None
    kind = "tone-like" if flatness < low else "noise-like"
    return (f"{name}: not speech-like by spectral flatness ({flatness:.2g}, {kind}; FSDD's "
            f"spoken digits, with a margin: {low:g}-{high:g}): the answer below is unreliable")


def is_wav(path: str | Path) -> bool:
    """Whether the file starts as a WAV file does (a RIFF/WAVE header), whatever its name."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return head[:4] == b"RIFF" and head[8:12] == b"WAVE"


def spectrograms(recordings: list[np.ndarray]) -> np.ndarray:
    """The log-mel "images" (n, 64, 61) of recordings, each cut or zero-padded to one second;
    computed as one batch (per-recording calls would be 20 times slower)."""
    import tensorflow as tf

    waves = np.zeros((len(recordings), SAMPLES), dtype="float32")
    for i, samples in enumerate(recordings):
        waves[i, :min(len(samples), SAMPLES)] = samples[:SAMPLES]
    stft = tf.signal.stft(waves, frame_length=FRAME, frame_step=STEP, fft_length=FRAME)
    mel = tf.signal.linear_to_mel_weight_matrix(MELS, FRAME // 2 + 1, RATE, 20.0, 4000.0)
    power = tf.tensordot(tf.abs(stft) ** 2, mel, 1)
    # rows: mel bands, columns: time
    return tf.transpose(tf.math.log(power + 1e-6), (0, 2, 1)).numpy()


def spectrogram(samples: np.ndarray) -> np.ndarray:
    """The log-mel image (64, 61) of one recording."""
    return spectrograms([samples])[0]


def spectrogram_of_file(path: str | Path, notes: list[str] | None = None) -> np.ndarray:
    """The log-mel image (64, 61) the audio nets take, of a WAV file; see read_recording."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: file not found")
    return spectrogram(read_recording(path.read_bytes(), str(path), notes))
