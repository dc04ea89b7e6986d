"""The report room: results tables and plots, generated from the store (never typed).

- tables.py: the `report` verb (<dataset>.csv, .md, _seeds.csv; --reference for the committed);
- time_to_accuracy.py: the `time-to-accuracy` verb, accuracy against wall time per seed;
- xo_lecture.py: the `xo-lecture` verb, the lecture's X/O walk-through against the trained net.

Uses only the recipes room (and tracking, zoo); the run room calls it after training.
"""
