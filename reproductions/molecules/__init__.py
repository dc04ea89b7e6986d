"""The molecule reproductions (issue #29): each recipe of reproductions/recipes/molecules.py over
its seeds, tracked in MLflow, tabulated against the chemists' baselines, shipped as weights.
`python -m reproductions molecules --help`; `make reproduce-molecules`."""
