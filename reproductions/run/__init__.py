"""The run room: one (recipe, seed) pair trained and tracked as one MLflow run, and the
`reproduce` verb that trains a recipe's seeds and then asks the report room for the tables.

- prepare.py: the data (with provenance and digest) and the compiled model of a run;
- schedule.py: the recipes' schedule records as Keras learning-rate schedules;
- train.py: `train_run`, resumable (checkpoint.py) and blind on request;
- artifacts.py: what a finished run logs besides metrics (plots, .keras, recipe.json, model);
- reproduce.py: the `reproduce` verb (claims, plan, progress, timing file, tables);
- estimate.py: the plan's time estimate for this machine, from a few seconds of calibration;
- console.py: the quiet console (MLflow's, TensorFlow's and Keras' lines in a log file);
- members.py: an ensemble's trained members from the store, and a member's probabilities
  through its views (for shipping and for ensemble screenings).

Uses the recipes and report rooms; benchmarks, searches and shipping use it, never the reverse.
"""
