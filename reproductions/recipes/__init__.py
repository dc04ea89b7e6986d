"""The recipes room: every training recipe as data, and nothing of the rest of the suite.

- schedules.py: learning-rate schedules as frozen records and their JSON form;
- recipe.py: the Recipe dataclass (its checks, JSON form and hash) and variants (`derive`);
- catalog.py: the built-in recipes and the tuned ones (tuned/*.json): RECIPES, get_recipe;
- screening.py: screenings, variants of a recipe as data files (screening/*.json);
- ensemble_screening.py: candidate ensembles of trained nets, their members and test-time views
  (ensembles/*.json);
- notes.py: a run, a recipe's parent run and an experiment described in words.

The room imports no other room of the suite (an import-linter contract); every other room reads
recipes from here, so `from reproductions.recipes import RECIPES, Recipe` is the way in.
"""

from reproductions.recipes.catalog import (BUILT_IN, ENSEMBLES, GORNER, LENET_PAPER_ETA, LENET_PAPER_PASSES,
                                           RECIPES, TUNED, collect, get_recipe, load_recipes,
                                           load_tuned)
from reproductions.recipes.recipe import PRECISIONS, Recipe, derive, parse_override
from reproductions.recipes.schedules import (SCHEDULES, Constant, CosineWarmup, EpochExponential,
                                             ExponentialFloored, Schedule, Step, schedule_from,
                                             schedule_json)
from reproductions.recipes.screening import SCREENING, Screening, load_screening

__all__ = ["BUILT_IN", "ENSEMBLES", "GORNER", "LENET_PAPER_ETA", "LENET_PAPER_PASSES", "PRECISIONS", "RECIPES",
           "SCHEDULES", "SCREENING", "TUNED", "Constant", "CosineWarmup", "EpochExponential",
           "ExponentialFloored", "Recipe", "Schedule", "Screening", "Step", "collect", "derive",
           "get_recipe", "load_recipes", "load_screening", "load_tuned", "parse_override",
           "schedule_from", "schedule_json"]
