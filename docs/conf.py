"""Sphinx configuration for sklipo's documentation."""

import sklipo

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

# The examples are rendered as pages of code, not run: at full size they take
# minutes to hours each (tests/test_examples.py runs them at smoke size).
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"_common\.py",
    "plot_gallery": False,
    "download_all_examples": False,
    "show_memory": False,
}

exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path = []
