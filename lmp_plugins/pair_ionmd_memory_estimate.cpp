/* ionmd: pair_style ionmd's estimate of a rank's graph (nodes, edges) from its subdomain,
   the ghost shell and the mean density, before LAMMPS builds either; the memory guard
   (pair_ionmd_memory_guard.cpp) compares it with the budget at init_style. */

#include "pair_ionmd.h"

#include "atom.h"
#include "domain.h"

#include <algorithm>
#include <cmath>

using namespace LAMMPS_NS;

// The share of an atom's neighbours within `rc` that a uniformly filled block keeps, against
// the same density without boundaries, where `width[d]` > 0 is the block's thickness along a
// non-periodic axis d (0: periodic): the mean over the block's atoms of the cutoff sphere's
// part inside it, i.e. the integral over |r| < rc of prod_d max(0, 1 - |r_d| / width[d]),
// over the sphere's volume. Not a product of one-axis shares (wires and clusters: 1.35x
// high); a midpoint rule on one octant, once per run (1 - 3 rc / (8 w) for one axis, w >= rc).
static double block_neighbour_share(const double width[3], double rc)
{
  if (width[0] <= 0.0 && width[1] <= 0.0 && width[2] <= 0.0) return 1.0;
  constexpr int N = 64;
  const double h = rc / N;
  double kept = 0.0, sphere = 0.0;
  for (int i = 0; i < N; ++i) {
    const double x = (i + 0.5) * h;
    for (int j = 0; j < N; ++j) {
      const double y = (j + 0.5) * h;
      for (int k = 0; k < N; ++k) {
        const double z = (k + 0.5) * h;
        if (x * x + y * y + z * z >= rc * rc) continue;
        const double r[3] = {x, y, z};
        double f = 1.0;
        for (int d = 0; d < 3; ++d)
          if (width[d] > 0.0) f *= std::max(0.0, 1.0 - r[d] / width[d]);
        kept += f;
        sphere += 1.0;
      }
    }
  }
  return kept / sphere;
}

PairIonmd::GraphSize PairIonmd::estimate_graph(IonmdGraphBuilder::Mode mode, double shell) const
{
  GraphSize g;
  g.nlocal = atom->nlocal;
  const double volume = domain->xprd * domain->yprd * domain->zprd;
  if (!(volume > 0.0) || atom->natoms <= 0) return g;
  // the subdomain in box fractions, and how far one Angstrom reaches along each face normal
  double lo[3], hi[3], per_angstrom[3];
  for (int d = 0; d < 3; ++d) {
    if (domain->triclinic) {
      lo[d] = domain->sublo_lamda[d];
      hi[d] = domain->subhi_lamda[d];
    } else {
      lo[d] = (domain->sublo[d] - domain->boxlo[d]) / domain->prd[d];
      hi[d] = (domain->subhi[d] - domain->boxlo[d]) / domain->prd[d];
      per_angstrom[d] = 1.0 / domain->prd[d];
    }
  }
  if (domain->triclinic) {    // as Comm::setup turns the ghost cutoff into lamda units
    const double *h_inv = domain->h_inv;
    per_angstrom[0] = sqrt(h_inv[0] * h_inv[0] + h_inv[5] * h_inv[5] + h_inv[4] * h_inv[4]);
    per_angstrom[1] = sqrt(h_inv[1] * h_inv[1] + h_inv[3] * h_inv[3]);
    per_angstrom[2] = h_inv[2];
  }
  // Along a non-periodic axis the atoms fill the span of their coordinates, not the box: a
  // fixed ('f') box keeps its vacuum (a slab in 30 A of it: 1/4 of the edges expected, a
  // cluster in 20 A: 1/11). The span is widened by one mean spacing s (half a spacing per
  // face, as a lattice's atoms own), s = (filled volume / atoms)^(1/3), found by iteration.
  double span_lo[3] = {0.0, 0.0, 0.0}, span_hi[3] = {1.0, 1.0, 1.0};
  {
    double mine[6], all[6];
    for (int d = 0; d < 3; ++d) {
      mine[d] = HUGE_VAL;     // minimum fraction
      mine[3 + d] = HUGE_VAL; // minus the maximum
    }
    for (int i = 0; i < atom->nlocal; ++i) {
      double lamda[3];
      if (domain->triclinic) domain->x2lamda(atom->x[i], lamda);
      else
        for (int d = 0; d < 3; ++d) lamda[d] = (atom->x[i][d] - domain->boxlo[d]) / domain->prd[d];
      for (int d = 0; d < 3; ++d) {
        mine[d] = std::min(mine[d], lamda[d]);
        mine[3 + d] = std::min(mine[3 + d], -lamda[d]);
      }
    }
    MPI_Allreduce(mine, all, 6, MPI_DOUBLE, MPI_MIN, world);
    double filled = volume, spacing = cbrt(volume / atom->natoms);
    for (int iter = 0; iter < 50; ++iter) {
      filled = volume;
      for (int d = 0; d < 3; ++d) {
        if (domain->periodicity[d]) continue;
        span_lo[d] = all[d] - 0.5 * spacing * per_angstrom[d];
        span_hi[d] = -all[3 + d] + 0.5 * spacing * per_angstrom[d];
        filled *= span_hi[d] - span_lo[d];
      }
      spacing = cbrt(filled / atom->natoms);
    }
  }
  double filled = volume, width[3] = {0.0, 0.0, 0.0};
  for (int d = 0; d < 3; ++d)
    if (!domain->periodicity[d]) {
      filled *= span_hi[d] - span_lo[d];
      width[d] = (span_hi[d] - span_lo[d]) / per_angstrom[d];
    }
  const double density = (double) atom->natoms / filled;
  // atoms within `grow` Angstrom of the subdomain: periodic images count, none lie beyond
  // the atoms' span along a non-periodic axis
  auto atoms_within = [&](double grow) {
    double frac = 1.0;
    for (int d = 0; d < 3; ++d) {
      double a = lo[d] - grow * per_angstrom[d], b = hi[d] + grow * per_angstrom[d];
      if (!domain->periodicity[d]) {
        a = std::max(a, span_lo[d]);
        b = std::min(b, span_hi[d]);
      }
      frac *= std::max(0.0, b - a);
    }
    return density * volume * frac;
  };
  // a rank without atoms never calls the model (halo: it only joins the exchanges)
  if (g.nlocal == 0) return g;
  const double inside = atoms_within(0.0);
  // neighbours per atom: the cutoff sphere at the filled part's density, clipped by its
  // non-periodic faces (a shrink-wrapped monolayer's box is ~0.1 A thick: the full sphere at
  // its mean density counted 50x its edges and refused 1600-atom LiCl(001) layers)
  const double neighbours =
      density * 4.0 / 3.0 * PI * cutoff * cutoff * cutoff * block_neighbour_share(width, cutoff);
  g.edges = neighbours * g.nlocal;
  if (mode == IonmdGraphBuilder::HALO) {
    g.nghost = std::max(0.0, atoms_within(cutoff) - inside);
  } else if (mode == IonmdGraphBuilder::GHOSTS) {
    g.nghost = std::max(0.0, atoms_within(shell) - inside);
    // ghosts have neighbour lists too; those in the outer cutoff of the shell only in part
    g.edges += neighbours * std::max(0.0, atoms_within(std::max(0.0, shell - 0.5 * cutoff)) - inside);
  }
  return g;
}
