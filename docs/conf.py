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
]

# numpydoc renders the Parameters/Attributes sections; autodoc lists members.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_member_order = "bysource"

exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path = []
