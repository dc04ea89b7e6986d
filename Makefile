# The ConvNet Zoo. `make test` and `make reproduce-mnist` set everything up themselves.
# Every training-suite target calls the suite's one command, `python -m reproductions <verb>`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
SUITE := $(PY) -m reproductions
READY := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)
# keras on JAX and PyTorch, without TensorFlow: what users of those backends have
VENV_BACKENDS := .venv-backends
READY_BACKENDS := $(VENV_BACKENDS)/.installed-$(shell cat requirements-backends.txt requirements-torch.txt | cksum | cut -d' ' -f1)

# RECIPES= names recipes everywhere (comma-separated); MODELS= is its old name, still accepted
# for a while (a model's canonical recipe carries the model's name).
MODELS ?=
RECIPES ?= $(MODELS)
SEEDS ?=
MODEL ?= conv3_bn.mnist
# the search's recipe: RECIPE= as before, or the first of RECIPES=
RECIPE ?= $(or $(firstword $(subst $(comma), ,$(RECIPES))),conv3)
comma := ,
TUNER ?= hyperband
MAX_TRIALS ?= 10
MAX_EPOCHS ?= 4
CHIEF_IP ?= 127.0.0.1
CHIEF_PORT ?= 8000
WORKER ?= worker0
# EXPORT_DIR=: where the tuned recipe goes; without it, the suite's tuned/ folder, where a search
# that would replace the committed conv3_tuned.json is refused before it starts
TUNE_ARGS = --recipe $(RECIPE) --tuner $(TUNER) --max-trials $(MAX_TRIALS) --max-epochs $(MAX_EPOCHS) \
	$(if $(EXPORT_DIR),--export-dir $(EXPORT_DIR))
INPUT ?= 7
FORMAT ?= onnx
OUT ?= exports
HOST ?= 127.0.0.1
PORT ?= 5000
# the live explainer's port: PORT= when given, else 8050, so that it runs beside mlflow-ui
EXPLAIN_PORT = $(if $(filter file,$(origin PORT)),8050,$(PORT))
# the model server's port (make serve): PORT= when given, else 5001, beside mlflow-ui too
SERVE_PORT = $(if $(filter file,$(origin PORT)),5001,$(PORT))
# JOBS=N: N runs at once, each process with its share of the cores (default: one a core)
JOBS ?=
JOBS_ARG = $(if $(JOBS),--jobs $(JOBS))$(if $(THREADS), --threads $(THREADS))
# THREADS=N: TensorFlow's threads in each run's process (default: its share of the cores); a
# weight's card names the threads its run trained with
THREADS ?=
# V=1: every MLflow, TensorFlow and Keras line on the console too (default: in runs/logs/)
VERBOSE = $(if $(V),--verbose)
# the MLflow store the UI and the server open: MLFLOW_TRACKING_URI's, when it names a database
# (where the suite logs: tracking/store.py), else the embedded one inside the repository (git
# ignores it)
STORE_FROM_ENV := $(filter sqlite:% postgresql% mysql% mssql%,$(MLFLOW_TRACKING_URI))
STORE ?= $(or $(STORE_FROM_ENV),sqlite:///$(CURDIR)/mlflow.db)
ARTIFACTS ?= $(CURDIR)/mlartifacts

.PHONY: help venv venv-backends test test-slow test-backends export bench-export bench-cli bench-serving profile bench-peers time-alternating serve reproduce-mnist reproduce-xo reproduce-fsdd reproduce-molecules report-mnist report-reference zoo-weights register-zoo bench bench-training explain explain-track explain-ui explain-ui-bench screen robustness record-errors time-to-accuracy zoo-ensemble tune-mnist tune-chief tune-worker mlflow-server mlflow-ui clean-venv

help:
	@echo "make venv             .venv with the pinned requirements.txt, once (Python 3.11)"
	@echo "make venv-backends    .venv-backends: Keras on JAX and PyTorch, no TensorFlow"
	@echo "make clean-venv       remove .venv (a broken or outdated one)"
	@echo "make test             run the test suite (creates .venv on first use)"
	@echo "make test-slow        the longest tests (several processes, servers, benchmarks); CI runs it too"
	@echo "make reproduce-mnist  train every MNIST recipe over its seeds (RECIPES=..., SEEDS=..., JOBS=N"
	@echo "                      runs at once, default one a core; THREADS=N each run's threads;"
	@echo "                      V=1: MLflow's, TensorFlow's and Keras' messages shown too)"
	@echo "make reproduce-xo     the lecture's X/O walk-through, and xo trained on generated X/O"
	@echo "make reproduce-fsdd   spoken digits: audio_conv on FSDD, official split and each speaker held out"
	@echo "make reproduce-molecules  molecules: image and SMILES CNNs against a random forest,"
	@echo "                      a linear model, FreeSolv's calc and the mean (~1 h; tables beside the store)"
	@echo "make report-mnist     the store's MNIST tables, beside it (mlflow-results/ for the embedded one)"
	@echo "make report-reference rewrite the committed reproductions/results/mnist.*, time_to_accuracy.* (deliberate)"
	@echo "make zoo-weights      ship the reproductions' weights in zoo/weights (manifest, MODELS.md)"
	@echo "make register-zoo     register the shipped weights in the MLflow model registry"
	@echo "make robustness       every shipped weight on a shifted, rotated, noisy test set (~3 min)"
	@echo "make record-errors    the test images each declared ensemble gets wrong, for the record"
	@echo "make time-to-accuracy every MNIST recipe's accuracy against its time (time_to_accuracy.png beside the store)"
	@echo "make zoo-ensemble     ship ENSEMBLE_RECIPE=conv7_bn_cosine's ENSEMBLE_SEEDS=1,2,3,4,5,6,7,10 as one model"
	@echo "make screen           train and tabulate a screening's variants (SCREENING=conv3_bn_fast)"
	@echo "make bench            training and inference speed of every model on this machine (~10 min),"
	@echo "                      and conv3_bn_small's batch-1 latency per fast path (results/latency.csv)"
	@echo "make bench-training   what makes training fast here, against a plain PyTorch loop (~12 min)"
	@echo "make bench-peers      conv3_bn's training against PyTorch (eager, channels_last +"
	@echo "                      torch.compile) and Keras on JAX, ROUNDS=5 alternating rounds (~25 min)"
	@echo "make time-alternating A=conv3_bn_fast B=conv3_bn_60s/h_b  two recipes' wall time a seed,"
	@echo "                      taking turns (SEEDS=; results/<A>_vs_<B>_timing.csv, ~25 min)"
	@echo "make profile          TensorFlow's profiler over RECIPE=conv3_bn's training steps: per-op"
	@echo "                      table, GFLOP/s against the matmul peak (results/profile_<recipe>.*)"
	@echo "make explain          what each layer sees (MODEL=conv3_bn.mnist INPUT=7: an MNIST test"
	@echo "                      index, X or O, or a picture), as PNGs and runs/explain/*/index.html"
	@echo "make explain-track    the same, also logged to MLflow (experiment zoo-explain)"
	@echo "make explain-ui       the live explainer: draw a digit, watch every layer answer, on"
	@echo "                      http://$(HOST):$(EXPLAIN_PORT)/ (PORT=... to change)"
	@echo "make explain-ui-bench its server-side time per shipped weight"
	@echo "make export           a shipped weight for another runtime (MODEL=conv3_bn.mnist"
	@echo "                      FORMAT=saved_model|onnx|litert OUT=exports)"
	@echo "make bench-export     size, load time and latency of every export per runtime"
	@echo "make bench-cli        the zoo command's wall time (predict: cached ONNX, first call, --keras)"
	@echo "make bench-serving BEFORE=<checkout>  the model server and the explainer under load"
	@echo "make serve            MLflow's model server for a shipped weight, registered if needed,"
	@echo "                      on http://$(HOST):$(SERVE_PORT)/invocations (MODEL=, PORT=)"
	@echo "make test-backends    every shipped weight on Keras' JAX and PyTorch backends"
	@echo "make tune-mnist       a KerasTuner search around RECIPE=conv3 (TUNER=hyperband|random|bayesian;"
	@echo "                      EXPORT_DIR=runs/tuned: the tuned recipe's folder)"
	@echo "make tune-chief / tune-worker WORKER=w1   the same search spread over processes or machines"
	@echo "make mlflow-server    a tracking server on HOST:PORT (STORE=: a database URI; default:"
	@echo "                      MLFLOW_TRACKING_URI when it names one, else the embedded mlflow.db)"
	@echo "make mlflow-ui        browse the runs on http://$(HOST):$(PORT)"
	@echo ""
	@echo "RECIPES= selects recipes everywhere; MODELS= is its old name and still works for now."
	@echo "Every target above runs .venv/bin/python -m reproductions <verb> (see its --help) or zoo."

venv: $(READY)

# the version is checked only when the venv is made: an existing one keeps its own Python
$(READY): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { \
	echo "the zoo needs Python 3.11 (pyproject.toml; $(PYTHON) is $$($(PYTHON) --version \
	2>&1)): install it or name it, make PYTHON=/path/to/python3.11" >&2; exit 2; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==26.3"
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.installed-*
	touch $@

# TEST_JOBS: processes `make test` spreads its tests over (pytest-xdist's -n; 0: this one only).
# Two keep both of 2 cores busy between TensorFlow's ops (docs/tests.md says how to time it).
TEST_JOBS ?= 2
test: $(READY)
	$(PY) -m pytest -n $(TEST_JOBS)

# the tests marked slow (pyproject.toml): several processes, servers, benchmarks; CI runs them
test-slow: $(READY)
	$(PY) -m pytest -m slow

venv-backends: $(READY_BACKENDS)

$(READY_BACKENDS): requirements-backends.txt requirements-torch.txt
	test -x $(VENV_BACKENDS)/bin/python || $(PYTHON) -m venv $(VENV_BACKENDS)
	$(VENV_BACKENDS)/bin/python -m pip install --quiet --upgrade "pip==26.3"
	# torch alone first, from PyTorch's CPU index (PyPI's wheel pulls several GB of CUDA
	# libraries); --no-deps, so that only torch is looked up there (a machine that cannot reach
	# it takes the same version from its own registry), its dependencies in the next line
	$(VENV_BACKENDS)/bin/python -m pip install --quiet --no-deps -r requirements-torch.txt
	$(VENV_BACKENDS)/bin/python -m pip install --quiet -r requirements-backends.txt
	rm -f $(VENV_BACKENDS)/.installed-*
	touch $@

# every shipped weight on KERAS_BACKEND=jax and =torch (tests/test_backends.py drives
# .venv-backends from the main venv, which computes the FSDD spectrograms with TensorFlow), and
# bench-peers' contestants in their venvs (tests/test_speed_study.py)
test-backends: $(READY) $(READY_BACKENDS)
	$(PY) -m pytest -m backends tests/test_backends.py tests/test_speed_study.py

reproduce-mnist: $(READY)
	$(SUITE) reproduce --dataset mnist --recipes "$(RECIPES)" --seeds "$(SEEDS)" $(JOBS_ARG) $(VERBOSE)

reproduce-xo: $(READY)
	$(SUITE) reproduce --dataset xo --recipes "$(RECIPES)" --seeds "$(SEEDS)" $(JOBS_ARG) $(VERBOSE)
	$(SUITE) xo-lecture

reproduce-fsdd: $(READY)
	$(SUITE) reproduce --dataset fsdd --recipes "$(RECIPES)" --seeds "$(SEEDS)" $(JOBS_ARG) $(VERBOSE)

# MODELS= and DATASETS= narrow it (comma-separated: smiles_cnn,rf and freesolv/random, ...)
reproduce-molecules: $(READY)
	$(SUITE) molecules $(if $(MODELS),--models "$(MODELS)") $(if $(DATASETS),--datasets "$(DATASETS)") $(if $(SEEDS),--seeds "$(SEEDS)") $(VERBOSE)

report-mnist: $(READY)
	$(SUITE) report mnist

report-reference: $(READY)
	$(SUITE) report mnist --reference
	$(SUITE) time-to-accuracy --reference

zoo-weights: $(READY)
	$(SUITE) export-weights

time-to-accuracy: $(READY)
	$(SUITE) time-to-accuracy

# the record's ensemble (issues 14 and 28); its members' time is also given on the reference
# kind, by their pace against the committed runs of ENSEMBLE_PACE_OF (the same net)
ENSEMBLE_RECIPE ?= conv7_bn_cosine
ENSEMBLE_SEEDS ?= 1,2,3,4,5,6,7,10
ENSEMBLE_PACE_OF ?= conv7_bn_cosine
zoo-ensemble: $(READY)
	$(SUITE) ensemble $(ENSEMBLE_RECIPE) --seeds $(ENSEMBLE_SEEDS) --pace-of $(ENSEMBLE_PACE_OF)

robustness: $(READY)
	$(SUITE) robustness

# every declared ensemble's test errors (zoo evaluate: <weight>-errors.csv), then docs/record.md's
# glance at issue 28, which says which images they all get wrong; nothing else is rewritten
record-errors: $(READY)
	$(SUITE) record-errors --reference

register-zoo: $(READY)
	$(SUITE) register

SCREENING ?= conv3_bn_fast
screen: $(READY)
	$(SUITE) screen $(SCREENING)

tune-mnist: $(READY)
	$(SUITE) tune $(TUNE_ARGS)

# team mode: one chief (KerasTuner's oracle), any number of workers, one MLflow server
tune-chief: $(READY)
	KERASTUNER_TUNER_ID=chief KERASTUNER_ORACLE_IP=$(CHIEF_IP) KERASTUNER_ORACLE_PORT=$(CHIEF_PORT) \
		$(SUITE) tune $(TUNE_ARGS)

tune-worker: $(READY)
	KERASTUNER_TUNER_ID=$(WORKER) KERASTUNER_ORACLE_IP=$(CHIEF_IP) KERASTUNER_ORACLE_PORT=$(CHIEF_PORT) \
		$(SUITE) tune $(TUNE_ARGS)

mlflow-server: $(READY)
	$(UI_ADDRESSES)
	$(VENV)/bin/mlflow server --backend-store-uri "$(STORE)" --artifacts-destination "$(ARTIFACTS)" \
		--host $(HOST) --port $(PORT)

bench: $(READY)
	$(SUITE) bench

bench-training: $(READY)
	$(PY) -m pip install --quiet -r requirements-torch.txt
	$(SUITE) bench-training

bench-export: $(READY)
	$(SUITE) bench-export

bench-cli: $(READY)
	$(SUITE) bench-cli

BEFORE ?=
bench-serving: $(READY)
	$(SUITE) bench-serving $(if $(BEFORE),--before $(BEFORE))

# the peers (torch, Keras on JAX) run in .venv-backends: keras + jax + torch, no TensorFlow
ROUNDS ?= 5
bench-peers: $(READY) $(READY_BACKENDS)
	$(SUITE) bench-peers --rounds $(ROUNDS)

# issue 18's timing: the reference and a candidate (a recipe or <screening>/<variant>)
A ?= conv3_bn_fast
B ?=
time-alternating: $(READY)
	@test -n "$(B)" || { echo "give the candidate: make time-alternating B=conv3_bn_60s/h_b"; exit 2; }
	$(SUITE) time-alternating $(A) $(B) $(if $(SEEDS),--seeds $(SEEDS))

PROFILE_RECIPE ?= $(if $(filter command line,$(origin RECIPE)),$(RECIPE),conv3_bn)
PROFILE_STEPS ?= 200
profile: $(READY)
	$(SUITE) profile $(PROFILE_RECIPE) --steps $(PROFILE_STEPS)

export: $(READY)
	$(PY) -m zoo.cli export $(MODEL) --format $(FORMAT) --out $(OUT)

explain: $(READY)
	$(VENV)/bin/zoo explain $(MODEL) $(INPUT) --out runs/explain

explain-track: $(READY)
	$(SUITE) explain $(MODEL) $(INPUT) --out runs/explain

# MLflow's model server for a shipped weight, registered first if needed (tracking/serve.py)
serve: $(READY)
	$(SUITE) serve $(MODEL) --host $(HOST) --port $(SERVE_PORT)

# the addresses that open each zoo experiment's runs table in MLflow's model-training view
UI_ADDRESSES = @MLFLOW_TRACKING_URI="$(STORE)" $(PY) -c "from tracking.ui import zoo_addresses; \
	print('open the runs:'); print(*zoo_addresses('http://$(HOST):$(PORT)'), sep='\n')" \
	2>/dev/null || true

mlflow-ui: $(READY)
	$(UI_ADDRESSES)
	$(VENV)/bin/mlflow ui --backend-store-uri "$(STORE)" --default-artifact-root "$(ARTIFACTS)" \
		--host $(HOST) --port $(PORT)

clean-venv:
	rm -rf $(VENV)

explain-ui: $(READY)
	$(VENV)/bin/zoo explain --serve --host $(HOST) --port $(EXPLAIN_PORT)

explain-ui-bench: $(READY)
	$(PY) -m zoo.explain_ui --bench
