/* ionmd: pair_style ionmd's forces, energy and virial from the model's result.

   forces f_i += g, f_j -= g and virial W = -sum_e r_ij (x) g, global and per atom.
   The virial is accumulated edge by edge rather than by fdotr, because in the
   single-rank graph the force lands on the owner, not on the ghost image. */

#include "pair_ionmd.h"

#include "atom.h"

#include <cstdint>

using namespace LAMMPS_NS;

void PairIonmd::accumulate()
{
  double **f = atom->f;
  const auto &node_atom = builder->node_atom();
  if (eflag_global) eng_vdwl += result.energy;
  if (eflag_atom)
    for (int k = 0; k < graph.nlocal; ++k) eatom[node_atom[k]] += result.atom_energy[k];

  const int64_t ne = graph.nedges();
  for (int64_t e = 0; e < ne; ++e) {
    const double *g = &result.edge_grad[3 * e];
    const double *r = &graph.edge_vec[3 * e];
    const int a = node_atom[graph.edge_i[e]], b = node_atom[graph.edge_j[e]];
    f[a][0] += g[0];
    f[a][1] += g[1];
    f[a][2] += g[2];
    f[b][0] -= g[0];
    f[b][1] -= g[1];
    f[b][2] -= g[2];
    if (vflag_either) {
      // LAMMPS order xx, yy, zz, xy, xz, yz
      const double w[6] = {-r[0] * g[0], -r[1] * g[1], -r[2] * g[2],
                           -r[0] * g[1], -r[0] * g[2], -r[1] * g[2]};
      if (vflag_global)
        for (int k = 0; k < 6; ++k) virial[k] += w[k];
      if (vflag_atom)
        for (int k = 0; k < 6; ++k) {
          vatom[a][k] += 0.5 * w[k];
          vatom[b][k] += 0.5 * w[k];
        }
    }
  }
}
