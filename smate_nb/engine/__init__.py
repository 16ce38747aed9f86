"""The training engine (being assembled; see the package docstring once complete)."""
