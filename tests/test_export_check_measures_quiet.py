"""The export checks' error measures (staged.relative_error, feature_error) take tensors
that may still require grad (stage features of the model under test): they must not
print torch's "Converting a tensor with requires_grad=True to a scalar" UserWarning,
which every `ionmd export mace` showed on the user's terminal. torch warns once per
process, so each case runs in a fresh interpreter."""

import subprocess
import sys

import pytest

SNIPPET = """
import warnings
import torch
from ionmd.export.staged import {name}
warnings.simplefilter("error")
ref = torch.tensor([2.0, -3.0, 0.5], dtype=torch.float64, requires_grad=True) * 1.0
got = ref.detach() + 1e-3
err = {name}(got, ref)
assert abs(err - {expected}) < 1e-12, err
print("ok")
"""


@pytest.mark.parametrize("name,expected", [
    ("feature_error", 1e-3 / 3.0),            # max|d| / max(1, max|ref|)
    ("relative_error", 1e-3 / (0.5 + 2.0)),   # max_i |d_i| / (|ref_i| + median|ref|)
])
def test_measures_do_not_warn_on_grad_tensors(name, expected):
    proc = subprocess.run([sys.executable, "-c", SNIPPET.format(name=name, expected=expected)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "UserWarning" not in proc.stderr and proc.stdout.strip() == "ok"
