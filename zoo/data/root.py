"""The one rule for where local data lives: `data_dir` if given, else $ZOO_DATA_DIR, else none.

Every local source (MNIST's IDX files, FSDD's recordings) asks this module, so the rule and its
error message are written once.
"""

from __future__ import annotations

import os
from pathlib import Path

from zoo.data.idx import DataError

ENV_VAR = "ZOO_DATA_DIR"


def data_root(data_dir=None) -> Path | None:
    """The folder holding local data sets, or None when neither `data_dir` nor ZOO_DATA_DIR is
    set; a path that is not a folder is a DataError naming where it came from."""
    root = data_dir if data_dir is not None else os.environ.get(ENV_VAR)
    if not root:
        return None
    root = Path(root)
    if not root.is_dir():
        origin = "data_dir" if data_dir is not None else ENV_VAR
        what = "it is a file" if root.is_file() else "nothing is there" if not root.exists() \
            else "not a plain folder"
        raise DataError(f"{origin}={root} is not a folder ({what}): point it at the folder "
                        "holding the data sets (mnist/, fsdd/recordings/; e.g. ../shared/data), "
                        "or leave it unset to download through tensorflow-datasets")
    return root
