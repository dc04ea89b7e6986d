"""The ship room: what leaves the suite for the zoo's users.

- naming.py: a shipped weight's name and seed, fixed by rule before training;
- models_md.py: zoo/MODELS.md, from the cards and the robustness CSV;
- export_weights.py: the `export-weights` verb (zoo/weights, manifest.json);
- ensemble.py: the `ensemble` verb, a recipe's members as one averaged model, and its spread;
- robustness.py: the `robustness` verb, every shipped weight on perturbed test sets;
- publish.py: `register`, `explain` and `serve`, the zoo's work published through MLflow.
"""
