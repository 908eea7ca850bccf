"""training/compare_crossval.py: a change wins a set only when every seed gains and the mean gain beats the spread before it."""

from __future__ import annotations

import json

import pytest

from lpr.training import compare_crossval


def _run(seeds: list[int], exact: dict[str, list[float]], false_plates: list[float] | None = None) -> dict:
    """A crossval --seeds payload holding only what the comparison reads."""
    across = {}
    for name, values in exact.items():
        across[name] = {"exact_rate": {"per_seed": values, "min": min(values), "max": max(values)}}
        if false_plates is not None:
            across[name]["images_with_false_plates"] = {"per_seed": false_plates, "min": min(false_plates), "max": max(false_plates)}
    return {"seeds": seeds, "across_seeds": across}


def test_a_change_wins_only_beyond_the_spread_and_on_every_seed() -> None:
    before = _run([0, 1, 2], {"us-scenes": [0.75, 0.77, 0.76], "us-plates": [0.92, 0.93, 0.925], "br-scenes": [0.80, 0.82, 0.81]})
    after = _run([0, 1, 2], {"us-scenes": [0.79, 0.80, 0.80], "us-plates": [0.93, 0.94, 0.93], "br-scenes": [0.70, 0.71, 0.72]})
    compared = compare_crossval.paired_difference(before, after)
    # +3.7 points on every seed against a spread of 2: better.
    assert compared["us-scenes"]["verdict"] == "better" and compared["us-scenes"]["mean"] == pytest.approx(0.0367, abs=1e-4)
    # +0.7 points on every seed, but the deal alone moves the figure 1 point: not shown.
    assert compared["us-plates"]["verdict"] == "within the spread"
    assert compared["br-scenes"]["verdict"] == "worse"
    # Fewer images with a false plate is the better way for that figure.
    fewer = compare_crossval.paired_difference(
        _run([0, 1], {"s": [0.7, 0.7]}, [0.05, 0.04]), _run([0, 1], {"s": [0.7, 0.7]}, [0.01, 0.01]), "images_with_false_plates"
    )
    assert fewer["s"]["verdict"] == "better"


def test_runs_that_cannot_be_paired_are_refused_in_one_line(tmp_path, capsys) -> None:
    with pytest.raises(ValueError, match="no spread"):
        compare_crossval.paired_difference({"figures": {}}, _run([0, 1], {"s": [0.7, 0.7]}))
    with pytest.raises(ValueError, match="other fold seeds"):
        compare_crossval.paired_difference(_run([0, 1], {"s": [0.7, 0.7]}), _run([0, 2], {"s": [0.7, 0.7]}))
    by_name = _run([0, 1], {"s": [0.7, 0.7]}) | {"method": "5-fold cross-validation by file-name hash, seeds 0, 1"}
    by_plate = _run([0, 1], {"s": [0.7, 0.7]}) | {"method": "5-fold cross-validation by plate-text hash, seeds 0, 1"}
    with pytest.raises(ValueError, match="dealt their folds otherwise"):
        compare_crossval.paired_difference(by_name, by_plate)
    before, after, broken = tmp_path / "before.json", tmp_path / "after.json", tmp_path / "broken.json"
    before.write_text(json.dumps(_run([0, 1], {"s": [0.70, 0.71]})))
    after.write_text(json.dumps(_run([0, 1], {"s": [0.75, 0.76]})))
    broken.write_text("{not json")
    assert compare_crossval.main([str(before), str(after)]) == 0
    assert "+5.00 points" in capsys.readouterr().out
    for argv in ([str(before), str(broken)], [str(before), str(tmp_path / "missing.json")], [str(before), str(after), "--figure", "nothing"]):
        assert compare_crossval.main(argv) == 1
        error = capsys.readouterr().err
        assert error.startswith("compare_crossval: error:") and error.count("\n") == 1
