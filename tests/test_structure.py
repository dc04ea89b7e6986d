"""The house's structure: imports run one way (reproductions -> tracking -> zoo), the zoo imports
and lists itself without Keras, TensorFlow or MLflow, and weight names have one parser."""

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_import_contracts_hold():
    """pyproject.toml's [tool.importlinter] contracts: the layers, no MLflow in the zoo, and
    models built, loaded and run without TensorFlow."""
    done = subprocess.run([str(LINT_IMPORTS), str(REPO / "pyproject.toml")], cwd=REPO,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "4 kept, 0 broken" in done.stdout


# Run in a fresh interpreter in which mlflow and tensorflow cannot be imported at all (as on a
# machine without them): the zoo must still import, list itself and describe its models.
HIDDEN = textwrap.dedent("""
    import importlib.abc, sys

    class Hide(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("mlflow", "tensorflow", "keras_tuner"):
                raise ModuleNotFoundError(f"No module named {name!r} (hidden by the test)")

    sys.meta_path.insert(0, Hide())
    import zoo, zoo.data
    from zoo.cli import main
    assert main(["list"]) == 0
    assert main(["info", "conv3_bn"]) == 0
    assert main(["info", "audio_conv.fsdd"]) == 0
    assert zoo.weight_info("conv3_bn").classes == tuple("0123456789")
    assert zoo.data.get_dataset("fsdd/loso-theo").family == "fsdd"
    heavy = sorted(m for m in ("keras", "tensorflow", "mlflow", "matplotlib", "PIL")
                   if m in sys.modules)
    print("HEAVY", heavy)
""")


def test_zoo_imports_and_lists_without_mlflow_tensorflow_or_keras():
    done = subprocess.run([sys.executable, "-c", HIDDEN], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "HEAVY []" in done.stdout  # not even keras: plain data until a model is built
    assert "conv3_bn.mnist" in done.stdout and "0, 1, 2, 3, 4, 5, 6, 7, 8, 9" in done.stdout


def test_the_zoo_command_answers_quickly_without_keras():
    code = ("import sys, time; t = time.perf_counter(); from zoo.cli import main; "
            "main(['list']); print('TOOK', time.perf_counter() - t, 'keras' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    took, keras_loaded = done.stdout.split("TOOK ")[1].split()
    assert keras_loaded == "False" and float(took) < 1.0


def test_help_of_both_commands_loads_nothing_heavy():
    for module in ("zoo.cli", "reproductions"):
        code = (f"import runpy, sys\nsys.argv = ['x', '--help']\ntry:\n    "
                f"runpy.run_module('{module}', run_name='__main__')\nexcept SystemExit:\n    pass\n"
                "print('LOADED', [m for m in ('keras', 'tensorflow', 'mlflow') "
                "if m in sys.modules])")
        done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                              text=True, timeout=60)
        assert "LOADED []" in done.stdout, (module, done.stdout[-500:], done.stderr[-2000:])


def test_the_store_verbs_that_need_no_net_load_without_keras():
    """`report` and `time-to-accuracy` read the store and write tables: their modules, and the
    tracking queries under them (tracking.runs, tracking.parents), import MLflow but not Keras
    and TensorFlow, whose start-up doubled `make report-mnist`'s time. The Keras callbacks live
    in tracking/curves.py, imported by what trains."""
    code = ("import sys\nimport reproductions.report.tables, reproductions.report.time_to_accuracy"
            "\nimport tracking.runs, tracking.parents\n"
            "print('LOADED', [m for m in ('keras', 'tensorflow') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert "LOADED []" in done.stdout, (done.stdout[-500:], done.stderr[-2000:])


PY_FILES = [p for d in ("zoo", "tracking", "reproductions") for p in (REPO / d).rglob("*.py")]


@pytest.mark.parametrize("path", PY_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_weight_name_is_split_outside_its_parser(path):
    text = path.read_text()
    assert not re.search(r"""\.split\(\s*["']\.["']""", text), \
        f"{path.relative_to(REPO)} splits a name on '.': use zoo.weights.WeightName.parse"
    assert not re.search(r"""["']\.["']\s+in\s+\w*name""", text), \
        f"{path.relative_to(REPO)} tests a name for '.': use WeightName.is_weight_name"


@pytest.mark.parametrize("path", PY_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_data_set_is_dispatched_on_its_name(path):
    text = path.read_text()
    for pattern in (r"""startswith\(["']fsdd""", r"""["']_loso_["']\s+in""",
                    r"""partition\(["']/loso-"""):
        assert not re.search(pattern, text), \
            f"{path.relative_to(REPO)}: ask zoo.data.get_dataset(name) for the facts instead"


def test_suite_modules_have_no_entry_points_of_their_own():
    """One command for the suite: no module reads sys.argv or runs as a script of its own."""
    for path in PY_FILES:
        text = path.read_text()
        assert "sys.argv" not in text, path
        if path.name != "__main__.py" and path != REPO / "zoo" / "cli.py":
            assert '__name__ == "__main__"' not in text, path


def test_nothing_imports_train_for_bookkeeping():
    for path in PY_FILES:
        for line in path.read_text().splitlines():
            if "reproductions.run.train import" in line:
                assert re.search(r"import (train_run|CHECKPOINT_ROOT)", line), (path, line)
    assert len((REPO / "reproductions" / "run" / "train.py").read_text().splitlines()) < 200


# ---- the rooms (issue 27) -----------------------------------------------------------------------

def _import_cycles(*packages) -> list[list[str]]:
    """Strongly connected components of more than one module in the graph of direct imports
    (lazy imports inside functions count: grimp reads every import statement)."""
    import grimp

    graph = grimp.build_graph(*packages)
    edges = {m: sorted(d for d in graph.find_modules_directly_imported_by(m) if d in graph.modules)
             for m in graph.modules}
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return cycles


def test_the_cycle_finder_finds_a_cycle(tmp_path, monkeypatch):
    """The oracle of the next test, on a hand-made package with one circle and one clean chain."""
    pkg = tmp_path / "circ"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from circ import b\n")
    (pkg / "b.py").write_text("def f():\n    from circ import a  # lazy, still a circle\n")
    (pkg / "c.py").write_text("from circ import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _import_cycles("circ") == [["circ.a", "circ.b"]]


def test_no_import_cycle_in_zoo_tracking_or_the_suite():
    assert _import_cycles("zoo", "tracking", "reproductions") == []


# Paths that moved into rooms: the one change `--help` shows (the same words, the new place).
MOVED_IN_HELP = {"reproductions/recipes.py": "reproductions/recipes/recipe.py",
                 "reproductions/tuned": "reproductions/recipes/tuned"}


def _help_texts() -> dict[str, str]:
    import argparse

    from reproductions.__main__ import build_parser

    parser = build_parser()
    texts = {"_top": parser.format_help()}
    verbs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    texts.update({name: p.format_help() for name, p in verbs.choices.items()})
    return texts


def test_the_command_line_reads_as_before_the_move(monkeypatch):
    """`python -m reproductions --help` and every verb's help, against the texts saved before the
    suite moved into rooms (tests/data/cli_help/before.json): identical, but for the moved paths
    they name (compared with the new path put in, whitespace re-flowed). A deliberate change of a
    verb's arguments since is saved there on purpose, with its reason: reproduce --verbose
    (issue 25); ensemble's example recipe, conv7_bn_cosine, the one that declares its members
    (issue 24); the new verb bench-cli, the zoo command's wall time, and reproduce's default, which
    leaves the studies out (issue 25); serve's --workers and checked --port, and the new verb
    bench-serving (issue 30); the new verb molecules, the molecule reproductions (issue 29);
    reproduce's --jobs, profile's --threads and the new verb time-job (issue 26); ensemble's
    --pace-of, the members' time on the reference kind, and its --seeds defaulting to the declared
    members (issue 28); the new verb ensemble-screen and ensemble's --screening, candidate
    ensembles (their members, their test-time views) chosen on validation (issue 28);
    reproduce's --threads, so that a weight's card can name the threads its run trained with,
    and ensemble's help naming a refit's tag (issue 28); screen's, ensemble-screen's and
    xo-lecture's --reference, since a user's screening or walk-through writes beside the store,
    not over the committed page; register's --verbose, since MLflow's registry lines now go to
    a log; every --reference in one wording (reproductions.arguments.reference_option); the
    new verb audio-flatness, the measured figures of zoo predict's speech check; the new verb
    record-errors, the test images each declared ensemble gets wrong (issue 28); tune's
    --reference, beside --export-dir, since a user's search must not replace the committed
    tuned recipe."""
    monkeypatch.setenv("COLUMNS", "80")  # argparse wraps to the terminal's width
    before = json.loads((REPO / "tests" / "data" / "cli_help" / "before.json").read_text())
    after = _help_texts()
    assert set(after) == set(before)  # the verbs' order is in "_top", compared below
    for verb, text in before.items():
        if any(old in text for old in MOVED_IN_HELP):
            for old, new in MOVED_IN_HELP.items():
                text = text.replace(old, new)
            assert " ".join(after[verb].split()) == " ".join(text.split()), verb
        else:
            assert after[verb] == text, verb


def test_every_verb_is_declared_in_a_room_and_main_only_dispatches():
    from reproductions.__main__ import VERBS

    main = (REPO / "reproductions" / "__main__.py").read_text()
    assert "add_argument" not in main
    rooms = {"recipes", "run", "report", "search", "ship", "bench", "molecules"}
    for declare in VERBS:
        module, _, function = declare.partition(":")
        assert module.split(".")[1] in rooms and module.endswith(".verbs"), declare
    for room in rooms:
        assert (REPO / "reproductions" / room / "__init__.py").is_file()
    flat = sorted(p.name for p in (REPO / "reproductions").glob("*.py"))
    assert flat == ["__init__.py", "__main__.py", "arguments.py"], flat


@pytest.mark.parametrize("package", ["zoo/weights", "zoo/explain_ui", "reproductions/recipes"])
def test_package_faces_only_re_export(package):
    """A package's __init__ holds a docstring and imports, no code of its own."""
    import ast

    tree = ast.parse((REPO / package / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.Assign) and [t.id for t in node.targets] == ["__all__"]:
            continue
        raise AssertionError(f"{package}/__init__.py line {node.lineno}: "
                             f"{type(node).__name__} (code belongs in a named module)")
