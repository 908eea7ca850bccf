"""Trained models shipped with lpr (installed as ``lpr.models``): ``us.npz`` is the general US model.

Each ``NAME.npz`` holds LinearSVC weights, classes and JSON metadata; load one with
``lpr.load_model("NAME")``. README.md gives the ``lpr train`` command that rebuilds it.
"""
