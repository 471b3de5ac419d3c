/* ionmd: pair_style ionmd's halo exchange.

   Halo mode (staged models, several ranks): the graph holds local and ghost atoms
   within one cutoff, edges only into local atoms; the model runs stage by stage and
   the node features of ghost atoms are filled between stages by comm->forward_comm(this),
   their gradients summed back into the owners by comm->reverse_comm(this)
   (forward()/reverse() below, called by the model runtime). */

#include "pair_ionmd.h"

#include "atom.h"
#include "comm.h"

#include <algorithm>
#include <cstdint>

using namespace LAMMPS_NS;

/* Comm::forward_comm/reverse_comm(Pair *, int size) take the values per atom since
   LAMMPS 2025; before (29Aug2024, 2Aug2023) they take the pair only and size the
   buffers from comm_forward/comm_reverse, which init_style() sets to the widest stage.
   Either way pack_*_comm returns what it packed, so a narrower stage sends less.
   Chosen by overload (SFINAE), not by version number: feature releases in between
   changed it too. */

namespace {
template <typename C, typename P>
auto comm_pair_forward(C *comm, P *pair, int size, int) -> decltype(comm->forward_comm(pair, size))
{
  return comm->forward_comm(pair, size);
}
template <typename C, typename P> void comm_pair_forward(C *comm, P *pair, int, long)
{
  comm->forward_comm(pair);
}
template <typename C, typename P>
auto comm_pair_reverse(C *comm, P *pair, int size, int) -> decltype(comm->reverse_comm(pair, size))
{
  return comm->reverse_comm(pair, size);
}
template <typename C, typename P> void comm_pair_reverse(C *comm, P *pair, int, long)
{
  comm->reverse_comm(pair);
}
}    // namespace

/* ---------------------------------------------------------------- halo exchange
   halo_rows is indexed by LAMMPS atom (local and ghost), `rows` by graph node;
   builder->node_atom() maps one to the other (NULL-type atoms have no node, their
   rows stay zero). Periodic self-images and relays through ranks that own no atoms
   are LAMMPS's business: its swaps call pack/unpack on the same halo_rows. */

void PairIonmd::forward(double *rows, int width)
{
  const int nall = atom->nlocal + atom->nghost;
  const auto &node_atom = builder->node_atom();
  const int64_t nnodes = graph.nnodes();
  halo_width = width;
  halo_rows.assign((size_t) nall * width, 0.0);
  for (int64_t k = 0; k < graph.nlocal; ++k)
    std::copy(rows + k * width, rows + (k + 1) * width,
              halo_rows.begin() + (size_t) node_atom[k] * width);
  comm_pair_forward(comm, (Pair *) this, width, 0);
  for (int64_t k = graph.nlocal; k < nnodes; ++k)
    std::copy(halo_rows.begin() + (size_t) node_atom[k] * width,
              halo_rows.begin() + (size_t) (node_atom[k] + 1) * width, rows + k * width);
  ++nexchange;
}

void PairIonmd::reverse(double *rows, int width)
{
  const int nall = atom->nlocal + atom->nghost;
  const auto &node_atom = builder->node_atom();
  const int64_t nnodes = graph.nnodes();
  halo_width = width;
  halo_rows.assign((size_t) nall * width, 0.0);
  for (int64_t k = 0; k < nnodes; ++k)
    std::copy(rows + k * width, rows + (k + 1) * width,
              halo_rows.begin() + (size_t) node_atom[k] * width);
  comm_pair_reverse(comm, (Pair *) this, width, 0);
  for (int64_t k = 0; k < graph.nlocal; ++k)
    std::copy(halo_rows.begin() + (size_t) node_atom[k] * width,
              halo_rows.begin() + (size_t) (node_atom[k] + 1) * width, rows + k * width);
  std::fill(rows + (size_t) graph.nlocal * width, rows + (size_t) nnodes * width, 0.0);
  ++nexchange;
}

int PairIonmd::pack_forward_comm(int n, int *list, double *buf, int /*pbc_flag*/, int * /*pbc*/)
{
  const int w = halo_width;
  int m = 0;
  for (int i = 0; i < n; ++i) {
    const double *src = &halo_rows[(size_t) list[i] * w];
    for (int c = 0; c < w; ++c) buf[m++] = src[c];
  }
  return m;
}

void PairIonmd::unpack_forward_comm(int n, int first, double *buf)
{
  const int w = halo_width;
  std::copy(buf, buf + (size_t) n * w, halo_rows.begin() + (size_t) first * w);
}

int PairIonmd::pack_reverse_comm(int n, int first, double *buf)
{
  const int w = halo_width;
  std::copy(halo_rows.begin() + (size_t) first * w, halo_rows.begin() + (size_t) (first + n) * w,
            buf);
  return n * w;
}

void PairIonmd::unpack_reverse_comm(int n, int *list, double *buf)
{
  const int w = halo_width;
  int m = 0;
  for (int i = 0; i < n; ++i) {
    double *dst = &halo_rows[(size_t) list[i] * w];
    for (int c = 0; c < w; ++c) dst[c] += buf[m++];
  }
}
