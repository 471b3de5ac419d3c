/* ionmd: pair_style ionmd's memory guard.

   A model call's memory grows with the graph's edges: autograd keeps the activations of
   every edge for the backward pass (SevenNet-0 float32 on the CPU: ~145 KiB per edge,
   docs/scaling.md). A redundant ghost shell of layers x cutoff + skin around a small
   subdomain multiplies the edges: 8-atom LiCl on 3 ranks with SevenNet-0's 27 A shell puts
   ~11,500 ghost atoms and ~270,000 edges on every rank (~35 GiB), while LAMMPS's own share
   (ghost atoms, neighbour lists) stays below 10 MB per rank. So the guard stops before the
   model call, with the numbers, where the graph cannot fit:
   - init_style, before LAMMPS builds the ghost shell: the graph estimated from the
     subdomain, the ghost shell and the mean density; every rank stops if one cannot fit;
   - compute, every step once the graph is built (cheap): its real node and edge counts.
   Bytes per edge are measured once per model file, and only when a graph could be too
   large at MAX_BYTES_PER_EDGE: the model runs on two synthetic graphs (600 and 2,400
   edges, 24 per node) and the slope of its peak memory between them is taken, so fixed
   costs (the first call's set-up) drop out. The budget is max_memory, else
   IONMD_MAX_MEMORY_GB, else this rank's share of what its device can still hand out (host:
   MemAvailable or the memory cgroup's room, shared by the node's ranks, plus the freed
   memory this rank already keeps, and at most the address space `ulimit -v` leaves it;
   GPU: free + torch's cached memory, shared by its ranks). */

#include "pair_ionmd.h"

#include "ionmd_rank_failure.h"

#include "comm.h"
#include "error.h"
#include "update.h"
#include "utils.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

using namespace LAMMPS_NS;

namespace {
// the estimate from the mean density can be ~20 % high (26 neighbours within 5 A in rock-salt
// LiCl, 31 from its density): init_style stops only beyond this factor, the graph's real
// counts decide at the first step
constexpr double INIT_MARGIN = 1.25;
constexpr double BYTES_PER_GIB = 1024.0 * 1024.0 * 1024.0;
}    // namespace

void PairIonmd::set_memory_budget()
{
  double gib = max_memory_gb;
  budget_source.clear();
  if (max_memory_given) {
    budget_source = "max_memory keyword";
  } else if (const char *env = std::getenv("IONMD_MAX_MEMORY_GB")) {
    const std::string v = env;
    char *end = nullptr;
    if (v == "off") gib = 0.0;
    else if (v == "auto" || v.empty()) gib = -1.0;
    else {
      gib = strtod(env, &end);
      if (end == env || *end != '\0' || !(gib > 0.0))
        error->all(FLERR, "pair_style ionmd: IONMD_MAX_MEMORY_GB must be auto, off or a positive "
                   "number of GiB per MPI rank, not '{}'", v);
    }
    budget_source = "IONMD_MAX_MEMORY_GB";
  }
  memory_budget = 0.0;
  if (gib == 0.0) return;
  if (gib > 0.0) {
    memory_budget = gib * GIB;
    budget_source = fmt::format("{} {:g}", budget_source, gib);
    return;
  }
  const double dev = model->device_available_bytes();
  if (dev >= 0.0) {
    memory_budget = dev / device_sharers;
    budget_source = fmt::format("{:.1f} GiB free on {} / {} rank(s) using it", dev / GIB,
                                model->device_name(), device_sharers);
    return;
  }
  std::string what;
  const double host = IONMD::host_available_bytes(what);
  // freed memory this rank keeps for reuse (ionmd_host_memory.cpp) is its own, and no
  // longer in MemAvailable (nor given back to the address space)
  const double kept = std::max(0.0, IONMD::host_rss_bytes() - rss_after_load);
  const std::string held =
      kept > 0.01 * GIB ? fmt::format(" + {:.2f} GiB this rank holds", kept / GIB) : "";
  if (host >= 0.0) {
    memory_budget = host / device_sharers + kept;
    budget_source = fmt::format("{} {:.1f} GiB / {} rank(s) on this node{}", what, host / GIB,
                                device_sharers, held);
  }
  // `ulimit -v` (SGE h_vmem, PBS vmem) bounds each process on its own: a model call past it
  // fails its allocation whatever MemAvailable says
  const double room = IONMD::host_address_space_room_bytes();
  if (room >= 0.0 && (memory_budget <= 0.0 || room + kept < memory_budget)) {
    memory_budget = std::max(room + kept, 1.0);
    budget_source = fmt::format("ulimit -v (RLIMIT_AS): {:.2f} GiB of address space left to "
                                "this rank{}", room / GIB, held);
  }
}

std::string PairIonmd::memory_fix(IonmdGraphBuilder::Mode mode) const
{
  std::string fix;
  if (mode == IonmdGraphBuilder::GHOSTS) {
    fix = meta.halo_stages > 0
        ? "use 'ghost halo' (a ghost shell of one cutoff instead of layers x cutoff; this model "
          "file has the stages it needs)"
        : "use 'ghost halo' (a ghost shell of one cutoff instead of layers x cutoff) with a model "
          "file exported with per-layer stages (`ionmd export sevennet|mace|esen`, the default; this "
          "file has none)";
    fix += ", fewer MPI ranks (on one rank 'ghost auto' builds a graph of the cell's own atoms "
           "only), or a larger cell per rank";
  } else {
    fix = "use more MPI ranks or GPUs (fewer atoms each), a smaller cell";
    // a float32 export halves what a float64 one holds; advice to a float32 model gains nothing
    fix += meta.dtype == "float64" ? ", or a float32 export" : "";
  }
  return fix + "; 'max_memory GiB' (or IONMD_MAX_MEMORY_GB) sets the limit per rank on the "
               "model call's graph (the rank's own resident size comes on top), "
               "'max_memory off' removes this check";
}

// Whether 'memory low' is an option the run did not take: 'memory fast' given, on a graph a
// staged model can recompute ('ghost redundant' graphs always run fast).
static bool low_path_untried(bool fast_given, IonmdGraphBuilder::Mode mode, int halo_stages)
{
  return fast_given && mode != IonmdGraphBuilder::GHOSTS && halo_stages > 0;
}

// The advice for a graph that does not fit with 'memory fast', from the recomputed path's
// cost per edge measured on this model (0: not measured): the keyword where it would fit.
static std::string low_path_words(double low_bpe, double edges, double budget, bigint chunk)
{
  if (low_bpe <= 0.0) return "";
  const double need = edges * low_bpe;
  const std::string measured = fmt::format(
      "~{:.3g} GiB at {:.1f} KiB per edge (measured on this model, stages recomputed{})",
      need / BYTES_PER_GIB, low_bpe / 1024.0,
      chunk > 0 ? fmt::format(" in chunks of {} edges", chunk) : std::string(" whole"));
  if (need <= budget)
    return fmt::format("drop 'memory fast' (memory auto recomputes the stages where the fast "
                       "path would not fit) or give 'memory low': this graph takes {} then; ",
                       measured);
  return fmt::format("'memory low' would still take {}; ", measured);
}

static std::string mode_words(IonmdGraphBuilder::Mode mode, double shell)
{
  if (mode == IonmdGraphBuilder::GHOSTS)
    return fmt::format("'ghost redundant', a {:.1f} A ghost shell", shell);
  if (mode == IonmdGraphBuilder::HALO) return "'ghost halo'";
  return "one rank";
}

void PairIonmd::check_estimated_memory(IonmdGraphBuilder::Mode mode, double shell)
{
  int on = memory_budget > 0.0, any = 0;
  MPI_Allreduce(&on, &any, 1, MPI_INT, MPI_MAX, world);
  if (!any) return;
  const GraphSize est = estimate_graph(mode, shell);
  measure_fast_path(mode, est.edges);
  if (needs_probe(est.edges)) probe_bytes_per_edge(mode, est.edges);
  // a rank that had no need to measure takes the figure measured elsewhere: the smallest,
  // as ranks measuring at the same time disturb each other upwards
  double mine_bpe = bytes_per_edge > 0.0 ? bytes_per_edge : HUGE_VAL, shared = HUGE_VAL;
  MPI_Allreduce(&mine_bpe, &shared, 1, MPI_DOUBLE, MPI_MIN, world);
  if (shared == HUGE_VAL) return;
  bytes_per_edge = shared;
  probed = true;
  const double need = est.edges * bytes_per_edge;
  struct {
    double ratio;
    int rank;
  } mine{memory_budget > 0.0 ? need / memory_budget : 0.0, comm->me}, worst;
  MPI_Allreduce(&mine, &worst, 1, MPI_DOUBLE_INT, MPI_MAXLOC, world);
  // the largest graph's numbers, as its rank sees them
  double nums[5] = {est.nlocal, est.nghost, est.edges, need, memory_budget};
  MPI_Bcast(nums, 5, MPI_DOUBLE, worst.rank, world);
  std::string source = budget_source;
  int len = (int) source.size();
  MPI_Bcast(&len, 1, MPI_INT, worst.rank, world);
  source.resize(len);
  MPI_Bcast(&source[0], len, MPI_CHAR, worst.rank, world);
  const std::string what = fmt::format(
      "rank {} would hold ~{:.0f} local + ~{:.0f} ghost atoms ({}) and ~{:.0f} edges: ~{:.2f} "
      "GiB at {:.1f} KiB per edge (measured on this model), {:.2f} GiB available ({})",
      worst.rank, nums[0], nums[1], mode_words(mode, shell), nums[2], nums[3] / GIB,
      bytes_per_edge / 1024.0, nums[4] / GIB, source);
  if (worst.ratio > INIT_MARGIN) {
    // collective: every rank measures the recomputed path, the smallest figure is taken
    const double low_bpe = low_path_untried(memory_mode == MEMORY_FAST, mode, meta.halo_stages)
        ? measure_bytes_per_edge(true, true) : 0.0;
    double low_mine = low_bpe > 0.0 ? low_bpe : HUGE_VAL, low_min = HUGE_VAL;
    MPI_Allreduce(&low_mine, &low_min, 1, MPI_DOUBLE, MPI_MIN, world);
    if (low_min == HUGE_VAL) low_min = 0.0;
    error->all(FLERR, "pair_style ionmd: the graph does not fit in memory: {}; {}{}", what,
               low_path_words(low_min, nums[2], nums[4], edge_chunk), memory_fix(mode));
  }
  if (comm->me == 0) utils::logmesg(lmp, "pair_style ionmd memory check: {}\n", what);
}

// Every rank's own graph against its budget, before the model call. On several ranks the
// check is collective (compute() has an empty subdomain join it too), so a rank other than 0
// that cannot fit stops the run with its numbers in log.lammps: with Error::one alone they
// reached its stdout only, and `ionmd run` recorded the run as interrupted, resumable.
void PairIonmd::check_graph_memory(IonmdGraphBuilder::Mode mode)
{
  const auto shortfall = [&]() -> std::string {
    if (memory_budget <= 0.0) return std::string();
    const double edges = (double) graph.nedges();
    measure_fast_path(mode, edges);
    if (needs_probe(edges)) probe_bytes_per_edge(mode, edges);
    const double need = edges * bytes_per_edge;
    if (bytes_per_edge <= 0.0 || need <= memory_budget) return std::string();
    const double low_bpe = low_path_untried(memory_mode == MEMORY_FAST, mode, meta.halo_stages)
        ? measure_bytes_per_edge(true, true) : 0.0;
    return fmt::format("pair_style ionmd at step {}: the graph does not fit in memory: rank {} "
                       "holds {} local + {} ghost atoms ({}) and {} edges: ~{:.2f} GiB at {:.1f} "
                       "KiB per edge (measured on this model), {:.2f} GiB available ({}); {}{}",
                       update->ntimestep, comm->me, graph.nlocal,
                       graph.nnodes() - graph.nlocal, mode_words(mode, comm->cutghostuser),
                       graph.nedges(), need / GIB, bytes_per_edge / 1024.0,
                       memory_budget / GIB, budget_source,
                       low_path_words(low_bpe, edges, memory_budget, edge_chunk),
                       memory_fix(mode));
  };
  const std::string why = shortfall();
  if (comm->nprocs > 1)
    IONMD::stop_if_any_rank_failed(error, world, comm->me, comm->nprocs, why);
  else if (!why.empty())
    error->one(FLERR, "{}", why);
}
