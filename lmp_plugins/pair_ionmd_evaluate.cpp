/* ionmd: how pair_style ionmd evaluates a graph: which graph it builds (graph mode),
   whether a staged model's stages are recomputed in the backward pass (memory fast, low or
   auto, and the measurement auto decides by), and the model call itself. */

#include "pair_ionmd.h"

#include "comm.h"
#include "utils.h"

#include <algorithm>

using namespace LAMMPS_NS;

IonmdGraphBuilder::Mode PairIonmd::graph_mode() const
{
  if (graph_request == GRAPH_OWNERS) return IonmdGraphBuilder::OWNERS;
  if (graph_request == GRAPH_GHOSTS) return IonmdGraphBuilder::GHOSTS;
  if (ghost_request == GHOST_HALO) return IonmdGraphBuilder::HALO;
  if (ghost_request == GHOST_REDUNDANT) return IonmdGraphBuilder::GHOSTS;
  if (comm->nprocs == 1) return IonmdGraphBuilder::OWNERS;
  return meta.halo_stages > 0 ? IonmdGraphBuilder::HALO : IonmdGraphBuilder::GHOSTS;
}

// Whether a graph of `nedges` edges is recomputed stage by stage: memory low, or auto where
// the fast path would not fit or (CPU) above the model's memory_auto_edges edges.
bool PairIonmd::recomputes(double nedges) const
{
  if (memory_mode != MEMORY_AUTO) return memory_mode == MEMORY_LOW;
  if (!on_gpu && nedges > meta.memory_auto_edges) return true;
  return !fast_path_fits(nedges);
}

// Whether the fast path's measured memory stays within AUTO_FAST_SHARE of the budget (true
// when nothing was measured: measure_fast_path only measures when it could matter).
bool PairIonmd::fast_path_fits(double nedges) const
{
  return fast_bytes_per_edge <= 0.0 || memory_budget <= 0.0 ||
      nedges * fast_bytes_per_edge <= AUTO_FAST_SHARE * memory_budget;
}

// The staged path: needed for the halo exchange, and when recomputing on one rank too
// (a graph of local atoms only needs no exchange between the stages).
bool PairIonmd::uses_stages(IonmdGraphBuilder::Mode mode, double nedges) const
{
  if (mode == IonmdGraphBuilder::HALO) return true;
  return recomputes(nedges) && mode == IonmdGraphBuilder::OWNERS &&
         meta.halo_stages > 0;
}

void PairIonmd::evaluate(const IONMD::IonmdGraph &g, IonmdGraphBuilder::Mode mode,
                         bool atom_energy, IONMD::IonmdResult &r)
{
  const double nedges = (double) g.nedges();
  if (!uses_stages(mode, nedges)) {
    model->compute(g, atom_energy, r);
    return;
  }
  const bool low = recomputes(nedges);
  // every rank notes its own switch (finish() gathers them); rank 0 also says so at once
  if (low && memory_mode == MEMORY_AUTO && !told_auto_low) {
    const std::string why = fast_path_fits(nedges)
        ? fmt::format("{} edges > {:.0f} on this rank", g.nedges(),
                      meta.memory_auto_edges)
        : fmt::format("{} edges would take ~{:.2f} GiB at {:.1f} KiB per edge (measured) "
                      "without recomputation, more than {:.0f} % of the {:.2f} GiB available",
                      g.nedges(), nedges * fast_bytes_per_edge / GIB,
                      fast_bytes_per_edge / 1024.0, 100.0 * AUTO_FAST_SHARE,
                      memory_budget / GIB);
    auto_low_why = fmt::format("{}: the stages are recomputed in the backward pass, {}", why,
                               edge_chunk > 0 ? fmt::format("in chunks of {} edges", edge_chunk)
                                              : std::string("whole"));
    if (comm->me == 0)
      utils::logmesg(lmp, "pair_style ionmd: memory auto: {}\n", auto_low_why);
    told_auto_low = true;
  }
  if (low && memory_mode == MEMORY_AUTO) recomputed_this_run = true;
  if (mode == IonmdGraphBuilder::HALO)
    model->compute_staged(g, *this, low, atom_energy, r);
  else
    model->compute_staged(g, local_graph, low, atom_energy, r);
}

// memory auto on a graph that could outgrow the budget: measure the fast path once, so that
// recomputes() can tell whether it fits; where it does, that is the run's figure too. On a
// GPU that must recompute, chunks are sized from the budget unless `chunk` was given.
void PairIonmd::measure_fast_path(IonmdGraphBuilder::Mode mode, double edges)
{
  if (memory_mode != MEMORY_AUTO || fast_probed || !could_outgrow_budget(edges)) return;
  if (mode == IonmdGraphBuilder::GHOSTS || meta.halo_stages == 0) return;
  if (!on_gpu && edges > meta.memory_auto_edges) return;    // low either way
  fast_probed = true;
  fast_bytes_per_edge = measure_bytes_per_edge(mode == IonmdGraphBuilder::HALO, false);
  if (fast_bytes_per_edge <= 0.0) return;
  if (!recomputes(edges)) {
    bytes_per_edge = fast_bytes_per_edge;
    probed = true;
  } else if (on_gpu && !chunk_given) {
    edge_chunk = std::max<bigint>(
        DEFAULT_EDGE_CHUNK, (bigint) (AUTO_CHUNK_SHARE * memory_budget / fast_bytes_per_edge));
    model->set_edge_chunk(edge_chunk);
  }
}

/* memory auto decides rank by rank: at the end of a run on several ranks, rank 0 says how
   many recomputed their stages and why the first of them did (a rank without atoms never
   switches, so rank 0 alone could not tell). Collective: called from finish(). */
void PairIonmd::report_auto_switches()
{
  int mine = recomputed_this_run ? 1 : 0, count = 0;
  recomputed_this_run = false;
  if (comm->nprocs == 1) return;
  MPI_Allreduce(&mine, &count, 1, MPI_INT, MPI_SUM, world);
  if (count == 0) return;
  int first = mine ? comm->me : comm->nprocs, lowest = 0;
  MPI_Allreduce(&first, &lowest, 1, MPI_INT, MPI_MIN, world);
  std::string why = comm->me == lowest ? auto_low_why : std::string();
  int len = (int) why.size();
  MPI_Bcast(&len, 1, MPI_INT, lowest, world);
  why.resize(len);
  if (len > 0) MPI_Bcast(&why[0], len, MPI_CHAR, lowest, world);
  if (comm->me == 0)
    utils::logmesg(lmp, "pair_style ionmd: memory auto: {} of {} ranks recomputed the stages in "
                   "the backward pass (rank {}: {})\n", count, comm->nprocs, lowest, why);
}
