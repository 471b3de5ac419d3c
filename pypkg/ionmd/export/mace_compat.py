"""TorchScript repairs for MACE blocks that mace-torch ships but cannot script itself.

Two blocks of mace-torch 0.3.x fail ``torch.jit.script`` (so neither MACE's own
TorchScript route nor ionmd's export could compile a model that uses them):

* ``RealAgnosticAttResidualInteractionBlock.forward`` is annotated as returning
  ``Tuple[Tensor, None]`` but returns its residual ``sc`` (a tensor). The forward is
  recompiled from mace's own source with the annotation corrected.
* ``GatedEquivariantBlock`` (``mace.modules.gate``, the gate of
  ``RealAgnosticResidualNonLinearInteractionBlock``) keeps its activations as Python
  function attributes and exposes ``o3.Irreps`` properties. It is given a subclass whose
  forward is the same computation with the activations chosen by name.

A third block scripts but computes in the wrong precision:

* ``ZBLBasis`` (``mace.modules.radial``, pair repulsion) forms its prefactor
  ``14.3996 * Z_u * Z_v`` from integer atomic numbers, which gives torch's default dtype
  (float32 in ``ionmd export`` and in LAMMPS) whatever the model's: a float64 export
  rounded the ZBL energy and forces to float32's relative 6e-8. Its forward is recompiled
  from mace's source with the atomic numbers cast to the dtype of the distances.

:func:`make_scriptable` swaps the class of the affected submodules in place (weights,
buffers and every other attribute stay as they are); modules of other classes, and
mace versions without these defects, are left alone.

:class:`SoftTransform` is the ``Soft`` distance transform of mace-torch 0.3.5-0.3.9,
which later releases replaced by another formula (:mod:`ionmd.export.mace_rebuild` puts it
into models rebuilt from those releases' files).
"""

# no `from __future__ import annotations`: TorchScript reads the gate's annotations
import inspect
import linecache
import sys
import textwrap
from typing import List, Tuple

import torch

from ionmd.errors import ExportError

_ATT_WRONG = "-> Tuple[torch.Tensor, None]:"
_ATT_RIGHT = "-> Tuple[torch.Tensor, torch.Tensor]:"
# ZBLBasis multiplies the integer atomic numbers by a Python float: the product has torch's
# *default* dtype (float32 in `ionmd export` and in LAMMPS), not the model's, so a float64
# export rounded the ZBL prefactor to float32 (relative error ~6e-8 of the ZBL energy)
_ZBL_WRONG = "(14.3996 * Z_u * Z_v)"
_ZBL_RIGHT = "(14.3996 * Z_u.to(x.dtype) * Z_v.to(x.dtype))"
_classes: dict = {}


def make_scriptable(model) -> None:
    """Repair, in place, the submodules of ``model`` that TorchScript cannot compile."""
    for module in list(model.modules()):
        fixed = _fixed_class(type(module))
        if fixed is None:
            continue
        if getattr(fixed, "_needs_activation_names", False):
            module._ionmd_scalar_act = _activation_name(module._act_scalar)
            module._ionmd_gate_act = _activation_name(module._act_gate)
        module.__class__ = fixed


def _fixed_class(cls):
    if cls in _classes:
        return _classes[cls]
    fixed = None
    if cls.__module__ == "mace.modules.blocks" and cls.__name__ == "RealAgnosticAttResidualInteractionBlock":
        fixed = _with_fixed_forward(cls, _ATT_WRONG, _ATT_RIGHT)
    elif cls.__module__ == "mace.modules.gate" and cls.__name__ == "GatedEquivariantBlock":
        fixed = _scriptable_gate(cls)
    elif cls.__module__ == "mace.modules.radial" and cls.__name__ == "ZBLBasis":
        fixed = _with_fixed_forward(cls, _ZBL_WRONG, _ZBL_RIGHT, "ZBL prefactor dtype")
    _classes[cls] = fixed
    return fixed


def _with_fixed_forward(cls, wrong: str, right: str, what: str = "return annotation"):
    """Subclass of ``cls`` whose forward is mace's source with ``wrong`` -> ``right``
    (None when the source does not hold ``wrong``: already right, or another release).
    TorchScript reads a method's source, so the recompiled forward gets a source of its own
    in ``linecache``."""
    from e3nn.util.jit import compile_mode

    source = textwrap.dedent(inspect.getsource(cls.forward))
    if wrong not in source:
        return None
    source = source.replace(wrong, right, 1)
    filename = f"<ionmd: {cls.__module__}.{cls.__qualname__}.forward, {what} fixed>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = dict(vars(sys.modules[cls.__module__]))
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - mace's own source
    fixed = type(cls.__name__, (cls,), {"forward": namespace["forward"], "__module__": __name__,
                                        "__qualname__": cls.__qualname__})
    return compile_mode("script")(fixed)


_ACTIVATIONS = ("silu", "sigmoid", "tanh", "abs", "relu")


def _activation_name(fn) -> str:
    if fn is None:
        return ""
    known = {torch.nn.functional.silu: "silu", torch.sigmoid: "sigmoid",
             torch.nn.functional.sigmoid: "sigmoid", torch.tanh: "tanh",
             torch.nn.functional.tanh: "tanh", torch.abs: "abs",
             torch.nn.functional.relu: "relu", torch.relu: "relu"}
    for ref, name in known.items():
        if fn is ref:
            return name
    raise ExportError(f"this MACE model's gate uses the activation {fn!r}, which ionmd cannot "
                      f"compile (supported: {', '.join(_ACTIVATIONS)})")


def _scriptable_gate(cls):
    from e3nn.util.jit import compile_mode

    @compile_mode("script")
    class GatedEquivariantBlock(cls):
        """mace's GatedEquivariantBlock.forward with the activations chosen by name."""

        __jit_unused_properties__ = ["irreps_in", "irreps_out"]
        _needs_activation_names = True
        _gated_info: List[Tuple[int, int, int, int, int]]
        _ionmd_scalar_act: str
        _ionmd_gate_act: str

        @staticmethod
        def _activation(name: str, x: torch.Tensor) -> torch.Tensor:
            if name == "silu":
                return torch.nn.functional.silu(x)
            if name == "sigmoid":
                return torch.sigmoid(x)
            if name == "tanh":
                return torch.tanh(x)
            if name == "abs":
                return torch.abs(x)
            if name == "relu":
                return torch.relu(x)
            return x

        def forward(self, features: torch.Tensor) -> torch.Tensor:
            scalars = features.narrow(-1, self._s_start, self._s_len)
            if self._ionmd_scalar_act != "":
                scalars = self._activation(self._ionmd_scalar_act, scalars) * self._scalar_cst
            if len(self._gated_info) == 0:
                return scalars
            gates = features.narrow(-1, self._g_start, self._g_len)
            if self._ionmd_gate_act != "":
                gates = self._activation(self._ionmd_gate_act, gates) * self._gate_cst
            batch_shape = features.shape[:-1]
            gated_parts: List[torch.Tensor] = []
            for gd_start, gd_len, ir_dim, mul, g_off in self._gated_info:
                gated_chunk = features.narrow(-1, gd_start, gd_len)
                gate_chunk = gates.narrow(-1, g_off, mul)
                if self._layout_is_ir_mul:
                    gated = gated_chunk.reshape(batch_shape + [ir_dim, mul]) * gate_chunk.unsqueeze(-2)
                else:
                    gated = gated_chunk.reshape(batch_shape + [mul, ir_dim]) * gate_chunk.unsqueeze(-1)
                gated_parts.append(gated.reshape(batch_shape + [mul * ir_dim]))
            return torch.cat([scalars] + gated_parts, dim=-1)

    GatedEquivariantBlock.__module__ = __name__
    return GatedEquivariantBlock


class SoftTransform(torch.nn.Module):
    """The ``Soft`` distance transform of mace-torch 0.3.5-0.3.9 (parameters ``a``, ``b``;
    later releases have another formula with ``alpha``), for files those releases wrote:
    ``y = x + tanh(-(x / r0) - a (x / r0)^b) / 2 + 1/2`` with ``r0`` a quarter of the
    sum of the two covalent radii."""

    def __init__(self, a: float = 0.2, b: float = 3.0):
        super().__init__()
        import ase.data

        dtype = torch.get_default_dtype()
        self.register_buffer("covalent_radii",
                             torch.tensor(ase.data.covalent_radii, dtype=dtype))
        self.register_buffer("a", torch.tensor(a, dtype=dtype))
        self.register_buffer("b", torch.tensor(b, dtype=dtype))

    def forward(self, x: torch.Tensor, node_attrs: torch.Tensor, edge_index: torch.Tensor,
                atomic_numbers: torch.Tensor) -> torch.Tensor:
        node_atomic_numbers = atomic_numbers[torch.argmax(node_attrs, dim=1)].unsqueeze(-1)
        z_u = node_atomic_numbers[edge_index[0]]
        z_v = node_atomic_numbers[edge_index[1]]
        r_0 = (self.covalent_radii[z_u] + self.covalent_radii[z_v]) / 4
        return x + (1 / 2) * torch.tanh(-(x / r_0) - self.a * ((x / r_0) ** self.b)) + 1 / 2
