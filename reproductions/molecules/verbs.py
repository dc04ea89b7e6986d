"""The `molecules` verb's command line (its work: run.py, report.py, ship.py)."""

from __future__ import annotations

from reproductions.arguments import names_among, reference_option, seed_list


def molecules(sub):
    from reproductions.recipes.molecules import BASELINES, DATASETS, NETS

    p = sub.add_parser("molecules", help="molecules: image and SMILES CNNs against the "
                       "chemists' baselines on FreeSolv and solubility, then the tables")
    p.add_argument("--models", default=[],
                   type=names_among("model", lambda: (*NETS, *BASELINES)),
                   help=f"comma-separated, default all: {', '.join((*NETS, *BASELINES))}")
    p.add_argument("--datasets", default=[], type=names_among("data set", lambda: DATASETS),
                   help=f"comma-separated, default all: {', '.join(DATASETS)}")
    p.add_argument("--seeds", default=[], type=seed_list,
                   help="comma-separated seeds (default: the recipes' declared 1,2,3)")
    p.add_argument("--report-only", action="store_true",
                   help="train nothing: write the tables from the runs in the store")
    reference_option(p, "tables, reproductions/results/molecules*")
    p.add_argument("--ship", action="store_true", help="then ship each net's weights "
                   "(zoo/molecules/weights): per task, the seed with the best validation figure")
    p.add_argument("--verbose", action="store_true", help="show MLflow's, TensorFlow's and "
                   "Keras' messages here too (default: in runs/logs/)")
    p.set_defaults(needs_store=True, quiet=True)
    return p, "reproductions.molecules.run:run"
