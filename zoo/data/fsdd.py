"""The Free Spoken Digit Dataset (FSDD) as spectrogram "images": the lecture's "beyond images".

3,000 recordings, 8 kHz mono, of 6 speakers saying 0-9, 50 times each (CC BY-SA 4.0;
github.com/Jakobovski/free-spoken-digit-dataset). Official split: recordings 0-4 of each speaker
and digit are the test set (300), 5-49 the training set (2,700).

    (x_train, y_train), (x_test, y_test) = load_fsdd()            # official split, log-mel
    (x_train, y_train), (x_test, y_test) = load_fsdd(holdout="theo") # leave one speaker out

Sources: a folder (`data_dir`, else $ZOO_DATA_DIR: zoo.data.root; in it fsdd/recordings/,
recordings/ or the folder itself) holding recordings/*.wav, each checked
against the checksums shipped with the zoo (fsdd_sha256.txt); else FSDD's release v1.0.10 (the
3,000 recordings those checksums list), downloaded and unpacked by tensorflow-datasets' download
manager and checked the same way. Not tfds' own `spoken_digit`: it is release v1.0.9, 2,500
recordings of five speakers, without lucas. Decoding uses TensorFlow's own ops
(tf.audio.decode_wav), imported inside the function that decodes, so that models and cards
need no TensorFlow. The spectrograms are zoo.audio's, the same for the data set as for a user's
file (1 s of audio, padded or cut, 32 ms frames every 16 ms, 64 mel bands up to 4 kHz, log -> a
64 x 61 image, frequency bands as rows and time as columns); they are importable from here as
before.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from zoo.data.download import check_online, nothing_left_on_failure, tfds_data_dir
from zoo.data.idx import DataError, sha256_of
from zoo.data.root import data_root
from zoo.data.specs import FSDD_SPEAKERS as SPEAKERS

# The signal code is below the data set: zoo.audio computes the spectrograms (and reads a user's
# file: the audio cards' reader is "zoo.data.fsdd:spectrogram_of_file"), this module uses it and
# re-exports its names, never the other way round.
from zoo.audio import FRAME, MELS, SAMPLES, SHAPE, STEP  # noqa: F401  (re-exported)
from zoo.audio import RATE as SAMPLE_RATE
from zoo.audio import spectrogram, spectrogram_of_file, spectrograms  # noqa: F401  (re-exported)

_NAME = re.compile(r"^(\d)_([a-z]+)_(\d+)\.wav$")
TEST_BELOW = 5  # the official split: recordings 0-4 of each speaker and digit are the test set
CHECKSUMS = Path(__file__).with_name("fsdd_sha256.txt")
# the release whose 3,000 recordings fsdd_sha256.txt lists (checked against the tag's files)
RELEASE = "1.0.10"
URL = f"https://github.com/Jakobovski/free-spoken-digit-dataset/archive/v{RELEASE}.tar.gz"
UNPACKED = f"free-spoken-digit-dataset-{RELEASE}/recordings"  # the recordings, in the archive


def official_split(name: str) -> str | None:
    """"test" or "train" for a recording's file name, as load_fsdd's official split puts it;
    None for a file not named as FSDD's recordings are."""
    named = _NAME.match(Path(name).name)
    return None if named is None else "test" if int(named[3]) < TEST_BELOW else "train"


def _known() -> dict[str, str]:
    return {name: digest for digest, name in
            (line.split() for line in CHECKSUMS.read_text().splitlines() if line.strip())}


def decode(raw: bytes, name: str = "recording") -> np.ndarray:
    """float32 samples in [-1, 1] of a mono 16-bit WAV; a clear error for anything else."""
    import tensorflow as tf

    if raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise DataError(f"{name}: not a WAV file (no RIFF/WAVE header)")
    try:
        audio, rate = tf.audio.decode_wav(raw, desired_channels=1)
    except tf.errors.InvalidArgumentError as err:
        raise DataError(f"{name}: corrupt WAV ({err.message})") from err
    if int(rate) != SAMPLE_RATE:
        raise DataError(f"{name}: sampled at {int(rate)} Hz, the zoo's audio nets expect "
                        f"{SAMPLE_RATE} Hz")
    return audio.numpy()[:, 0]


def _order(name: str):
    """Recordings in (digit, speaker, index) order, whichever source they come from."""
    digit, speaker, index = _NAME.match(Path(name).name).groups()
    return int(digit), speaker, int(index)


def _folder(data_dir) -> Path | None:
    """The local folder of recordings, or None (then tensorflow-datasets is the source)."""
    root = data_root(data_dir)
    if root is None:
        return None
    for folder in (root / "fsdd" / "recordings", root / "recordings", root):
        if folder.is_dir() and any(folder.glob("*.wav")):
            return folder
    # a data folder was given: the user meant it, so it is an error, not a quiet download
    origin = "data_dir" if data_dir is not None else "ZOO_DATA_DIR"
    raise DataError(f"{origin}={root} holds no FSDD recordings (looked for *.wav in "
                    f"{root / 'fsdd' / 'recordings'}, {root / 'recordings'} and {root}): put "
                    f"them there, or unset {origin} to download through tensorflow-datasets")


def digest() -> str:
    """FSDD's identity for run tags: the SHA256 of the checksum list every recording is checked
    against (whichever the source, the recordings are those)."""
    return f"fsdd_sha256.txt={sha256_of(CHECKSUMS)}"


def source_of(data_dir=None, holdout=None) -> str:
    folder = _folder(data_dir)
    return str(folder) if folder else "tensorflow-datasets"


@lru_cache(maxsize=2)
def _records(folder: Path | None):
    """(spectrograms, labels, speakers, indices) for all 3,000 recordings, from `folder` (None:
    the release downloaded through tensorflow-datasets); cached by folder, since every fold reads
    the same recordings."""
    if folder is None:
        folder = _downloaded()
    known = _known()
    missing = sorted(set(known) - {p.name for p in folder.glob("*.wav")})
    if missing:
        raise DataError(f"{folder}: {len(missing)} FSDD recordings missing, e.g. {missing[0]}")
    specs, labels, speakers, indices = [], [], [], []
    for name in sorted(known, key=_order):
        path = folder / name
        actual = sha256_of(path)
        if actual != known[name]:
            raise DataError(f"{path}: SHA256 mismatch, expected {known[name]}, got {actual}; "
                            "the recording is corrupt or altered, fetch it again")
        digit, speaker, index = _NAME.match(name).groups()
        specs.append(decode(path.read_bytes(), str(path)))
        labels.append(int(digit))
        speakers.append(speaker)
        indices.append(int(index))
    return spectrograms(specs), np.array(labels), np.array(speakers), np.array(indices)


_OFFLINE_HELP = "Offline, point ZOO_DATA_DIR at a folder holding fsdd/recordings/*.wav, e.g. " \
    "export ZOO_DATA_DIR=../shared/data"


def _downloaded() -> Path:
    """The recordings of FSDD's release RELEASE, downloaded once and unpacked under
    tensorflow-datasets' data folder by its download manager (a second call finds them there);
    _records checks each against fsdd_sha256.txt, as it does a local folder's."""
    import tensorflow_datasets as tfds

    downloads = tfds_data_dir() / "downloads" / "fsdd"
    # unpacked by an earlier call (the manager's extracted/ folder): no network needed, and
    # _records still checks every file
    earlier = sorted(downloads.glob(f"extracted/*/{UNPACKED}"))
    if earlier:
        return earlier[0]
    check_online("FSDD", URL, _OFFLINE_HELP)  # seconds, not minutes
    try:
        with nothing_left_on_failure(tfds_data_dir()):
            manager = tfds.download.DownloadManager(download_dir=downloads)
            unpacked = Path(manager.download_and_extract(URL))
    except Exception as err:  # offline, tfds fails in many ways; all mean the same to a user
        raise DataError(
            f"could not download FSDD {RELEASE} through tensorflow-datasets "
            f"({type(err).__name__}: {err}). {_OFFLINE_HELP}") from err
    folder = unpacked / UNPACKED
    if not folder.is_dir():
        raise DataError(f"{URL} unpacked into {unpacked} without the folder {UNPACKED}; delete "
                        f"{unpacked} and try again. {_OFFLINE_HELP}")
    return folder


def load_fsdd(data_dir=None, holdout: str | None = None):
    """((x_train, y_train), (x_test, y_test)): log-mel spectrograms (n, 64, 61) and digits.

    holdout=None: the official split (index 0-4 test). holdout=speaker: that speaker's 500
    recordings are the test set, the other five speakers' 2,500 the training set."""
    (train, test), _ = _split(_folder(data_dir), holdout)
    return train, test


def load_split(data_dir=None, holdout: str | None = None):
    """(train, test, source, digest) for zoo.data.load_dataset: the split of load_fsdd."""
    folder = _folder(data_dir)
    (train, test), source = _split(folder, holdout)
    return train, test, source, digest()


def _split(folder, holdout):
    specs, labels, speakers, indices = _records(folder)
    if holdout is None:
        test = indices < TEST_BELOW
    elif holdout in SPEAKERS:
        test = speakers == holdout
    else:
        raise DataError(f"unknown speaker {holdout!r}; FSDD's are {', '.join(SPEAKERS)}")
    source = str(folder) if folder else "tensorflow-datasets"
    return ((specs[~test], labels[~test]), (specs[test], labels[test])), source
