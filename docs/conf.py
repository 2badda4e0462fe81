"""Sphinx configuration for sklipo's documentation."""

import sys
from pathlib import Path

import sklipo

# the examples' shared module holds the gallery's argv and figure scraper
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

project = "sklipo"
author = "sklipo developers"
copyright = "2026, sklipo developers"
release = sklipo.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

# numpydoc renders the Parameters/Attributes sections; autodoc lists members.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_member_order = "bysource"

# The examples run in their small gallery mode (`--gallery`: 510 particles at
# the study's class proportions, 2 epochs, 3 folds) and each page shows the
# printed tables and the PNG files the script wrote. The full-size runs take
# minutes to hours each and stay commands on each page. A build that only
# renders the code (seconds) passes `-D plot_gallery=0`, as tests/test_docs.py
# does by default.
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"_common\.py",
    "plot_gallery": "True",
    "reset_argv": "_common.gallery_argv",
    # the scripts save their figures as files: the gallery shows those files
    "image_scrapers": ("_common.gallery_scraper",),
    "capture_repr": (),
    # every executed build runs every example, so its time is the true build time
    "run_stale_examples": True,
    "download_all_examples": False,
    "show_memory": False,
}

exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path = []
