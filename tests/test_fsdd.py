"""Spoken digits (FSDD): verified loading, the two protocols, a corrupt recording refused, and a
short real training run well above chance."""

import numpy as np
import pytest

import zoo.data
from zoo.data import DataError
from zoo.data.fsdd import SHAPE, SPEAKERS, _folder, _records, decode, load_fsdd


def test_official_split(fsdd):
    (x_train, y_train), (x_test, y_test) = fsdd
    assert x_train.shape == (2700,) + SHAPE and x_test.shape == (300,) + SHAPE
    assert np.bincount(y_test).tolist() == [30] * 10  # 5 recordings x 6 speakers per digit
    assert np.isfinite(x_train).all()


@pytest.mark.parametrize("speaker", SPEAKERS)
def test_leave_one_speaker_out(speaker):
    (x_train, _), (x_test, y_test) = zoo.data.load(f"fsdd/loso-{speaker}")
    assert len(x_train) == 2500 and len(x_test) == 500
    assert np.bincount(y_test).tolist() == [50] * 10


def test_unknown_speaker_is_refused():
    with pytest.raises(DataError, match="unknown speaker 'alice'"):
        load_fsdd(holdout="alice")


def test_altered_recording_is_refused_by_name(tmp_path):
    folder = _folder(None)
    copy = tmp_path / "fsdd" / "recordings"
    copy.mkdir(parents=True)
    for wav in folder.glob("*.wav"):
        (copy / wav.name).symlink_to(wav)
    victim = copy / "4_nicolas_17.wav"
    victim.unlink()
    raw = bytearray((folder / "4_nicolas_17.wav").read_bytes())
    raw[-100] ^= 0xFF
    victim.write_bytes(bytes(raw))
    _records.cache_clear()
    with pytest.raises(DataError, match=r"4_nicolas_17\.wav: SHA256 mismatch"):
        load_fsdd(tmp_path)


def test_non_wav_and_truncated_wav_get_clear_errors():
    raw = (_folder(None) / "1_jackson_0.wav").read_bytes()
    assert decode(raw, "ok.wav").shape[0] > 1000
    with pytest.raises(DataError, match=r"notes\.txt: not a WAV file"):
        decode(b"just some text, not audio at all", "notes.txt")
    with pytest.raises(DataError, match=r"cut\.wav: corrupt WAV"):
        decode(raw[:30], "cut.wav")


def test_audio_conv_learns_spoken_digits_on_a_short_run(mlflow_store, tmp_path):
    from dataclasses import replace

    from reproductions.recipes import RECIPES
    from reproductions.run.train import train_run

    short = replace(RECIPES["audio_conv"], name="audio_short", steps=225, eval_every=75)
    result = train_run(short, 1, checkpoint_root=tmp_path / "ckpt", log_mlflow_model=False)
    assert result["test_accuracy"] > 0.5  # chance is 0.1
