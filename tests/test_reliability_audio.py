"""Issue 17, item 9: recordings unlike FSDD are converted with a note, or refused with a message."""

import numpy as np
import pytest
from scipy.io import wavfile

from zoo.audio import AudioError, read_recording, spectrogram_of_file
from zoo.data.fsdd import SHAPE, _folder

RECORDING = "4_nicolas_17.wav"  # a real FSDD test recording, 8 kHz mono 16-bit


def _real():
    rate, samples = wavfile.read(_folder(None) / RECORDING)
    assert rate == 8000 and samples.dtype == np.int16
    return samples


def _write(path, rate, samples):
    wavfile.write(path, rate, samples)
    return path


def test_fsdd_recording_is_read_as_training_read_it(tmp_path):
    from zoo.data.fsdd import decode

    raw = (_folder(None) / RECORDING).read_bytes()
    notes = []
    np.testing.assert_array_equal(read_recording(raw, RECORDING, notes), decode(raw, RECORDING))
    assert notes == []


def test_silence_is_refused(tmp_path):
    path = _write(tmp_path / "silence.wav", 8000, np.zeros(8000, dtype=np.int16))
    with pytest.raises(AudioError, match=r"silence\.wav: silent \(peak level -inf dBFS"):
        spectrogram_of_file(path, [])
    hiss = np.random.default_rng(0).integers(-20, 20, 8000).astype(np.int16)  # -64 dBFS
    with pytest.raises(AudioError, match=r"hiss\.wav: silent \(peak level -6\d dBFS"):
        spectrogram_of_file(_write(tmp_path / "hiss.wav", 8000, hiss), [])


def test_too_short_clip_is_refused(tmp_path):
    path = _write(tmp_path / "blip.wav", 8000, _real()[1000:1080])  # 0.01 s
    with pytest.raises(AudioError, match=r"blip\.wav: 0\.010 s of audio, too short"):
        spectrogram_of_file(path, [])


def test_long_clip_uses_its_loudest_second_and_says_so(tmp_path):
    digit = _real()
    long = np.zeros(60 * 8000, dtype=np.int16)
    long[30 * 8000:30 * 8000 + len(digit)] = digit  # the digit said 30 s in
    notes = []
    got = spectrogram_of_file(_write(tmp_path / "long.wav", 8000, long), notes)
    assert got.shape == SHAPE
    assert len(notes) == 1 and "long.wav: 60.00 s long" in notes[0] and "the loudest" in notes[0]
    # the second it heard holds the digit: same picture as the recording alone, but for the
    # few frames where the window starts earlier or later
    alone = spectrogram_of_file(_write(tmp_path / "alone.wav", 8000, digit), [])
    assert np.corrcoef(got.ravel(), alone.ravel())[0, 1] > 0.95


def test_too_long_recording_is_refused(tmp_path):
    talk = np.zeros(61 * 8000, dtype=np.int16)
    talk[:len(_real())] = _real()
    path = _write(tmp_path / "talk.wav", 8000, talk)
    with pytest.raises(AudioError, match=r"talk\.wav: 61\.0 s of audio; .*cut the recording"):
        spectrogram_of_file(path, [])


def test_stereo_is_mixed_and_said(tmp_path):
    digit = _real()
    stereo = np.stack([digit, digit], axis=1)
    notes = []
    got = spectrogram_of_file(_write(tmp_path / "stereo.wav", 8000, stereo), notes)
    assert notes == [f"{tmp_path / 'stereo.wav'}: 2 channels averaged into one (mono)"]
    mono = spectrogram_of_file(_write(tmp_path / "mono.wav", 8000, digit), [])
    np.testing.assert_allclose(got, mono, atol=1e-4)


def test_44_1_khz_is_resampled_and_said(tmp_path):
    from scipy.signal import resample_poly

    digit = _real().astype("float32") / 32768
    high = resample_poly(digit, 441, 80)  # the same recording at 44.1 kHz
    notes = []
    got = spectrogram_of_file(_write(tmp_path / "cd.wav", 44100,
                                     (high * 32767).astype(np.int16)), notes)
    assert notes == [f"{tmp_path / 'cd.wav'}: resampled from 44100 Hz to 8000 Hz"]
    original = spectrogram_of_file(_write(tmp_path / "orig.wav", 8000, _real()), [])
    assert np.corrcoef(got.ravel(), original.ravel())[0, 1] > 0.99


def test_24_bit_pcm_is_read(tmp_path):
    digit = _real()
    # a hand-written 24-bit PCM WAV (scipy writes int32 as 32-bit): each 16-bit sample << 8
    frames = b"".join(int(s << 8).to_bytes(3, "little", signed=True) for s in digit.tolist())
    header = (b"RIFF" + (36 + len(frames)).to_bytes(4, "little") + b"WAVEfmt "
              + (16).to_bytes(4, "little") + (1).to_bytes(2, "little") + (1).to_bytes(2, "little")
              + (8000).to_bytes(4, "little") + (8000 * 3).to_bytes(4, "little")
              + (3).to_bytes(2, "little") + (24).to_bytes(2, "little")
              + b"data" + len(frames).to_bytes(4, "little"))
    path = tmp_path / "studio24.wav"
    path.write_bytes(header + frames)
    notes = []
    got = read_recording(path.read_bytes(), "studio24.wav", notes)
    np.testing.assert_allclose(got, digit.astype("float32") / 32768, atol=1e-7)
    assert notes == []


def test_unsupported_encoding_says_how_to_convert(tmp_path):
    raw = bytearray((_folder(None) / RECORDING).read_bytes())
    raw[20:22] = (2).to_bytes(2, "little")  # format tag 2: Microsoft ADPCM
    with pytest.raises(AudioError, match=r"adpcm\.wav: a WAV encoding this reader does not "
                                         r"decode.*ffmpeg -i adpcm\.wav -ac 1 -ar 8000"):
        read_recording(bytes(raw), "adpcm.wav", [])


def test_a_wav_without_a_format_chunk_is_refused_by_name(tmp_path):
    """A RIFF/WAVE header with a LIST chunk and no "fmt " chunk: scipy fails before it knows the
    rate (UnboundLocalError in wavfile.read); the reader says what is wrong, and the command
    exits 2 with no traceback."""
    import struct
    import subprocess
    import sys

    chunk = b"LIST" + struct.pack("<I", 4) + b"INFO"
    raw = b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WAVE" + chunk
    with pytest.raises(AudioError, match=r"list\.wav: corrupt WAV, no format chunk"):
        read_recording(raw, "list.wav", [])
    (tmp_path / "list.wav").write_bytes(raw)
    done = subprocess.run([sys.executable, "-m", "zoo.cli", "predict", str(tmp_path / "list.wav"),
                           "--model", "audio_conv.fsdd"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and "no format chunk" in done.stderr
    assert "Traceback" not in done.stderr
