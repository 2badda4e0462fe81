"""Searching whole particle-classification recipes within a time budget."""

# License: BSD 3 clause

from sklipo.model_selection._report import describe_recipe, search_report
from sklipo.model_selection._search import BudgetedHalvingSearchCV, make_search
from sklipo.model_selection._space import (
    FAMILIES,
    IMBALANCE_TREATMENTS,
    recipe_anchors,
    recipe_pipeline,
    recipe_space,
)

__all__ = [
    "BudgetedHalvingSearchCV",
    "FAMILIES",
    "IMBALANCE_TREATMENTS",
    "describe_recipe",
    "make_search",
    "recipe_anchors",
    "recipe_pipeline",
    "recipe_space",
    "search_report",
]
