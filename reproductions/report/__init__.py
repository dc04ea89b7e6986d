"""The report room: results tables and plots, generated from runs (never typed): the store's
runs go into the per-seed file, and the tables, the plot and the README's results come from it.

- tables.py: the `report` verb (<dataset>_seeds.csv, then .csv and .md from it; --reference
  merges the store into the committed files);
- readme.py: the README's generated results section;
- time_to_accuracy.py: the `time-to-accuracy` verb, accuracy against wall time per seed;
- xo_lecture.py: the `xo-lecture` verb, the lecture's X/O walk-through against the trained net.

Uses only the recipes room (and tracking, zoo); the run room calls it after training.
"""
