"""The search room: choices made on validation only, never on the test set.

- spaces.py: KerasTuner search spaces around a recipe;
- tune.py: the `tune` verb (one machine or a chief and workers), and its committed record;
- screen.py: the `screen` verb, a screening's variants trained blind and tabulated;
- ensemble_screen.py: the `ensemble-screen` verb, candidate ensembles of trained nets read
  blind on validation and the declared rule's choice.
"""
