/* ionmd: pair_style ionmd measures its model's memory per graph edge on synthetic graphs,
   for the memory guard (pair_ionmd_memory_guard.cpp) and memory auto
   (pair_ionmd_evaluate.cpp). */

#include "pair_ionmd.h"

#include "error.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

using namespace LAMMPS_NS;

namespace {
// probe only when a graph at this many bytes per edge would not fit (above every measured model)
constexpr double MAX_BYTES_PER_EDGE = 4.0 * 1024.0 * 1024.0;
// below this the measurement is noise: the graph's own tensors take ~100 bytes per edge
constexpr double MIN_BYTES_PER_EDGE = 128.0;
constexpr int PROBE_DEGREE = 24;    // senders per node, distinct: nodes > degree
constexpr int PROBE_NODES[2] = {25, 100};
constexpr int PROBE_CHUNK = 128;      // edges per chunk when the probe measures chunked stages
}    // namespace

// Could a graph of this many edges outgrow the budget at the largest cost per edge we
// allow for? Below that no model needs measuring.
bool PairIonmd::could_outgrow_budget(double edges) const
{
  return memory_budget > 0.0 && edges * MAX_BYTES_PER_EDGE > memory_budget;
}

bool PairIonmd::needs_probe(double edges) const
{
  return !probed && could_outgrow_budget(edges);
}

// Bytes per edge of one model call: the slope of its peak memory between two synthetic
// graphs (random edge vectors of 0.45-0.95 cutoff, PROBE_DEGREE senders per node), each
// measured from its own start after one unmeasured warm-up call. On the CPU the peak is the
// resident set: the free heap pages go back to the kernel first (malloc_trim), as freed
// memory kept from loading the model would otherwise hide the first ~100 MB a call takes.
void PairIonmd::probe_bytes_per_edge(IonmdGraphBuilder::Mode mode, double run_edges)
{
  probed = true;
  bytes_per_edge = measure_bytes_per_edge(uses_stages(mode, run_edges), recomputes(run_edges));
}

// The model's peak memory per edge on the evaluation path given (0: not measured).
double PairIonmd::measure_bytes_per_edge(bool staged, bool low)
{
  // the probe restarts the peaks that finish() reports: keep the ones it would lose
  peak_saved[0] = std::max(peak_saved[0], host_peak_rss_mib());
  peak_saved[1] = std::max(peak_saved[1], model->device_peak_mib());
  const int nspecies = (int) meta.elements.size();
  uint64_t state = 0x2545F4914F6CDD1Dull;
  auto uniform = [&state]() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (double) (state >> 11) * (1.0 / 9007199254740992.0);
  };
  IONMD::IonmdGraph g;
  auto make_graph = [&](int n, int degree) {
    g.clear();
    g.nlocal = n;
    for (int i = 0; i < n; ++i) {
      g.species.push_back(i % nspecies);
      for (int d = 1; d <= degree; ++d) {
        const double z = 2.0 * uniform() - 1.0, phi = 2.0 * PI * uniform();
        const double len = cutoff * (0.45 + 0.5 * uniform()), s = sqrt(1.0 - z * z);
        g.edge_i.push_back(i);
        g.edge_j.push_back((i + d) % n);
        g.edge_vec.push_back(len * s * cos(phi));
        g.edge_vec.push_back(len * s * sin(phi));
        g.edge_vec.push_back(len * z);
      }
    }
  };
  IONMD::IonmdResult r;
  // the probe graph is all local, so it needs no exchange; recomputed in chunks, the probe
  // uses chunks smaller than its graphs, so that the slope is what each further edge
  // keeps, not the one chunk's transient
  struct ChunkRestore {       // the run's chunk size back, however the probe ends
    IONMD::IonmdModel &m;
    bigint chunk;
    ~ChunkRestore() { m.set_edge_chunk(chunk); }
  } restore{*model, edge_chunk};
  if (low && edge_chunk > 0) model->set_edge_chunk(PROBE_CHUNK);
  auto call = [&]() {
    if (staged) model->compute_staged(g, local_graph, low, false, r);
    else model->compute(g, false, r);
  };
  double edges[2], peak[2];
  try {
    make_graph(8, 4);
    call();    // warm-up: the first call's one-off allocations
    for (int k = 0; k < 2; ++k) {
      make_graph(PROBE_NODES[k], PROBE_DEGREE);
      edges[k] = (double) g.nedges();
      if (on_gpu) {
        model->reset_device_peak();
        const double base = model->device_allocated_bytes();
        call();
        peak[k] = model->device_peak_mib() * 1024.0 * 1024.0 - base;
      } else {
        IONMD::release_freed_host_memory();
        if (!IONMD::reset_host_peak()) {
          error->warning(FLERR, "pair_style ionmd: cannot measure memory here "
                         "(/proc/self/clear_refs); no memory check of the graph");
          return 0.0;
        }
        const double base = IONMD::host_rss_bytes();
        call();
        peak[k] = IONMD::host_peak_bytes() - base;
      }
    }
  } catch (IONMD::IonmdError &e) {
    error->warning(FLERR, "pair_style ionmd: the model failed on the graph that measures its "
                   "memory ({}); no memory check of the graph", e.what());
    return 0.0;
  }
  return std::max(MIN_BYTES_PER_EDGE, (peak[1] - peak[0]) / (edges[1] - edges[0]));
}
