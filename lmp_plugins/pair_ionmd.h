/* -*- c++ -*- ----------------------------------------------------------
   ionmd: pair_style ionmd, one pair style for every exported ML potential.

   pair_style ionmd FILE [device auto|cpu|cuda|cuda:N] [graph auto|owners|ghosts]
                        [ghost auto|redundant|halo] [memory auto|fast|low] [chunk EDGES]
                        [max_memory auto|off|GiB]
   pair_coeff * * El1 El2 ... (one element per atom type; NULL under pair_style hybrid)
------------------------------------------------------------------------- */

#ifndef LMP_PAIR_IONMD_H
#define LMP_PAIR_IONMD_H

#include "ionmd_graph.h"
#include "ionmd_model.h"
#include "pair.h"

#include <memory>
#include <string>
#include <vector>

namespace LAMMPS_NS {

class PairIonmd : public Pair, public IONMD::HaloExchange {
 public:
  PairIonmd(class LAMMPS *);
  ~PairIonmd() override;

  void compute(int, int) override;
  void settings(int, char **) override;
  void coeff(int, char **) override;
  void init_style() override;
  double init_one(int, int) override;
  void finish() override;

  // halo exchange of node features between the stages of a staged model
  void forward(double *rows, int width) override;
  void reverse(double *rows, int width) override;
  int pack_forward_comm(int, int *, double *, int, int *) override;
  void unpack_forward_comm(int, int, double *) override;
  int pack_reverse_comm(int, int, double *) override;
  void unpack_reverse_comm(int, int *, double *) override;

 protected:
  enum GraphRequest { GRAPH_AUTO, GRAPH_OWNERS, GRAPH_GHOSTS };
  enum GhostRequest { GHOST_AUTO, GHOST_REDUNDANT, GHOST_HALO };
  enum MemoryMode { MEMORY_AUTO, MEMORY_FAST, MEMORY_LOW };

  // a graph that needs no exchange between stages (one rank: every node is local)
  struct LocalGraph : IONMD::HaloExchange {
    void forward(double *, int) override {}
    void reverse(double *, int) override {}
    bool exchanges() const override { return false; }
  };

  static constexpr double GIB = 1024.0 * 1024.0 * 1024.0;
  static constexpr double PI = 3.14159265358979323846;

  // life cycle (pair_ionmd.cpp)
  void allocate();
  void report_peak_memory();
  void report_auto_switches();
  void forget_restart_ghost_shell(double shell, bool ghosts);
  [[noreturn]] void model_call_failed(const std::string &what, IonmdGraphBuilder::Mode mode);
  std::string out_of_memory_fix(IonmdGraphBuilder::Mode mode) const;
  static double host_peak_rss_mib();
  // pair_style and pair_coeff lines (pair_ionmd_settings.cpp)
  void reset_settings();
  void check_units(const std::string &since);
  std::vector<bigint> atoms_per_type() const;
  std::string empty_types_note(const std::vector<bigint> &count) const;
  // the model file, the same on every rank (pair_ionmd_load.cpp)
  void load_model();
  void stop_unless_loaded_everywhere(const std::string &failure);
  void stop_unless_same_model_everywhere();
  // ranks per node, cores and threads (pair_ionmd_node.cpp)
  void configure_threads();
  void count_usable_cores(MPI_Comm node);
  static bool launcher_node_layout(int &rank, int &size);
  // graph mode, memory mode and the model call (pair_ionmd_evaluate.cpp)
  IonmdGraphBuilder::Mode graph_mode() const;
  bool recomputes(double nedges) const;
  bool fast_path_fits(double nedges) const;
  bool uses_stages(IonmdGraphBuilder::Mode mode, double nedges) const;
  void evaluate(const IONMD::IonmdGraph &g, IonmdGraphBuilder::Mode mode, bool atom_energy,
                IONMD::IonmdResult &r);
  void measure_fast_path(IonmdGraphBuilder::Mode mode, double edges);
  // energy, forces, virial (pair_ionmd_accumulate.cpp)
  void accumulate();
  // checks of the input (pair_ionmd_checks.cpp)
  void check_masses();
  void check_type_labels();
  void check_neighbor_exclusions();
  void check_hybrid_skipped_pairs();
  void check_tiled_reach(IonmdGraphBuilder::Mode mode);
  void check_heat_flux();
  void check_tally_computes();
  bigint model_atoms_in_group(const class Compute *c, bool &dynamic) const;
  // special_bonds weights against the model's bonded pairs (pair_ionmd_special_bonds.cpp)
  void check_special_bonds();
  void check_hybrid_special_pairs();
  void count_special_pairs(bigint found[4]);
  std::string special_weights_refusal(const bigint found[4], const std::string &source) const;
  std::string special_pairs_source();
  std::string bond_creating_fix();
  // checks of the model's output (pair_ionmd_output_checks.cpp): the closest pair of atoms
  // in this rank's graph (IDs, distance in A; ids 0: no edge)
  struct ClosestPair {
    double distance = -1.0;
    tagint id1 = 0, id2 = 0;
  };
  ClosestPair closest_pair() const;
  void warn_close_pair();
  void check_finite(bool evaluated = true);
  std::string non_finite_message() const;

  // memory guard: estimated graph size x measured bytes per edge against the memory a rank
  // can still get; stops before the model call that would exhaust it
  // (pair_ionmd_memory_guard.cpp; the estimate in pair_ionmd_memory_estimate.cpp, the
  // measurement in pair_ionmd_memory_probe.cpp)
  struct GraphSize {
    double nlocal = 0, nghost = 0, edges = 0;
  };
  GraphSize estimate_graph(IonmdGraphBuilder::Mode mode, double shell) const;
  void set_memory_budget();
  bool could_outgrow_budget(double edges) const;
  bool needs_probe(double edges) const;
  void probe_bytes_per_edge(IonmdGraphBuilder::Mode mode, double run_edges);
  double measure_bytes_per_edge(bool staged, bool low);
  std::string memory_fix(IonmdGraphBuilder::Mode mode) const;
  void check_estimated_memory(IonmdGraphBuilder::Mode mode, double shell);
  void check_graph_memory(IonmdGraphBuilder::Mode mode);

  std::string model_file, device_request;
  GraphRequest graph_request;
  GhostRequest ghost_request;
  // memory low: staged models keep no autograd graph in the forward pass and recompute
  // one stage at a time, in chunks of edge_chunk edges, in the backward pass (also on one
  // rank); fast keeps every stage's graph; auto (the default) is fast while the fast path's
  // measured memory fits the budget (AUTO_FAST_SHARE of it) and, on the CPU, up to the
  // model's memory_auto_edges edges per rank (metadata; 32768 unless the exporter says
  // otherwise), low above (CPU, SevenNet-0 at 4032 atoms: 17x less memory for 1.09x the
  // time; at 1000 atoms fast is 1.3-1.6x faster and takes 4 GB: docs/scaling.md). A GPU
  // has the memory for the fast path far longer and loses more to small chunks, so there
  // only the fit decides, and chunks are sized from the budget unless `chunk` is given.
  static constexpr bigint DEFAULT_EDGE_CHUNK = 4096;
  // the keywords' values: defaults in reset_settings()
  MemoryMode memory_mode;
  bool memory_given;
  bigint edge_chunk;
  bool chunk_given;
  // auto keeps the fast path while it takes at most this share of the budget (the probe
  // reads ~15 % low on SevenNet-0, docs/scaling.md); on a GPU the recomputed chunks then
  // take up to AUTO_CHUNK_SHARE of it, estimated at the fast path's cost per edge (which
  // counts all stages; a chunk is one stage's)
  static constexpr double AUTO_FAST_SHARE = 0.7, AUTO_CHUNK_SHARE = 0.25;
  bool on_gpu = false;
  double fast_bytes_per_edge = 0.0;    // the fast path's, measured when auto has to choose
  bool fast_probed = false;
  bool told_auto_low;
  // this rank's reason for its first switch to recomputation, and whether it recomputed in
  // the current run (report_auto_switches)
  std::string auto_low_why;
  bool recomputed_this_run = false;
  LocalGraph local_graph;
  std::unique_ptr<IONMD::IonmdModel> model;
  IONMD::ModelMetadata meta;    // model's, parsed with this side's string ABI (ionmd_model.h)
  std::unique_ptr<IonmdGraphBuilder> builder;
  IONMD::IonmdGraph graph;
  IONMD::IonmdResult result;
  std::vector<int> type2species;    // index = LAMMPS type (1-based), -1 = NULL
  // hybrid's checks of the list (skips, special pairs): once per init
  bool skips_checked = false;
  // atoms closer than CLOSE_PAIR named once per run (at its setup; reset by init_style)
  bool warned_close_pair = false;
  static constexpr double CLOSE_PAIR = 0.5;
  double special_lj_global[4] = {1.0, 1.0, 1.0, 1.0};    // special_bonds lj at init
  // per-type masses against the pair_coeff elements: the (type, mass, element) list last
  // checked, so that a warning is given once, not again at every run
  std::string masses_checked;
  double cutoff;
  // comm->cutghostuser as this style raised it for a redundant shell (0: not raised), and
  // the value before
  double ghost_cut_raised = 0.0, ghost_cut_before = 0.0;
  // the user ghost cutoff when this style was created (a restart file's value, if any),
  // < 0 once init_style has looked at it (forget_restart_ghost_shell)
  double ghost_cut_at_creation = -1.0;
  int local_rank, local_size;
  // cores this rank may run on (its affinity mask) and the node's ranks whose masks overlap
  // it (count_usable_cores): the torch threads per rank are their ratio
  int usable_cores = 1, cores_sharers = 1;
  bool partitioned_node;    // local_rank/size count the ranks of every partition (-partition)
  // wall time split of compute() since the last finish(): graph, model, assembly
  double time_graph, time_model, time_assembly;
  bigint ncalls;
  // halo exchange: atom-indexed rows [nall x halo_width] that pack/unpack read and write
  std::vector<double> halo_rows;
  int halo_width;
  bigint nexchange;
  // freed host memory is kept for reuse (ionmd_host_memory.cpp); its free pages go back
  // to the kernel every TRIM_PERIOD model calls
  static constexpr int TRIM_PERIOD = 100;
  bool keep_memory = false;
  int calls_since_trim = 0;
  // memory guard: max_memory keyword in GiB per rank (< 0: auto, 0: off); the budget in
  // bytes (0: no guard) and where it comes from; model bytes per graph edge (0: not measured)
  double max_memory_gb;
  bool max_memory_given;
  double memory_budget = 0.0, bytes_per_edge = 0.0;
  std::string budget_source;
  bool probed = false;
  double rss_after_load = 0.0;
  int device_sharers = 1;    // MPI ranks of this node on the same device (cpu or one GPU)
  double peak_saved[2] = {0.0, -1.0};    // host, GPU peak (MiB) before a probe restarted them
};

}    // namespace LAMMPS_NS

#endif
