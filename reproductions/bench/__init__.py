"""The bench room: speed and cost, measured on this machine and printed with it.

- common.py: what every bench shares (timing, versions, CSV writing);
- models.py: the `bench` verb, training and inference speed of every model, batch-1 latency;
- training.py: the `bench-training` verb, what makes training fast here;
- peers.py: the `bench-peers` verb, the zoo against PyTorch and Keras on JAX;
- export.py: the `bench-export` verb, size, load time and latency per runtime;
- mlflow_logging.py: the `bench-logging` verb, what MLflow logging costs a run;
- profile.py: the `profile` verb, where a training step's time goes;
- time_alternating.py: the `time-alternating` verb, two recipes' wall time taking turns.

Uses the run and recipes rooms; nothing else in the suite uses it.
"""
