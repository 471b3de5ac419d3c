/* -*- c++ -*- ----------------------------------------------------------
   ionmd: pair_style mlip, one pair style for every exported ML potential.

   pair_style mlip FILE [device auto|cpu|cuda|cuda:N] [graph auto|owners|ghosts]
                        [ghost auto|redundant|halo]
   pair_coeff * * El1 El2 ... (one element or NULL per atom type)
------------------------------------------------------------------------- */

#ifndef LMP_PAIR_MLIP_H
#define LMP_PAIR_MLIP_H

#include "mlip_graph.h"
#include "mlip_model.h"
#include "pair.h"

#include <memory>
#include <string>
#include <vector>

namespace LAMMPS_NS {

class PairMLIP : public Pair, public IONMD::HaloExchange {
 public:
  PairMLIP(class LAMMPS *);
  ~PairMLIP() override;

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

  void allocate();
  void load_model();
  MlipGraphBuilder::Mode graph_mode() const;
  void configure_threads();
  void check_finite();
  void accumulate();
  void report_peak_memory();
  static double host_peak_rss_mib();

  std::string model_file, device_request;
  GraphRequest graph_request;
  GhostRequest ghost_request;
  std::unique_ptr<IONMD::MlipModel> model;
  std::unique_ptr<MlipGraphBuilder> builder;
  IONMD::MlipGraph graph;
  IONMD::MlipResult result;
  std::vector<int> type2species;    // index = LAMMPS type (1-based), -1 = NULL
  double cutoff;
  int local_rank, local_size;
  // wall time split of compute() since the last finish(): graph, model, assembly
  double time_graph, time_model, time_assembly;
  bigint ncalls;
  // halo exchange: atom-indexed rows [nall x halo_width] that pack/unpack read and write
  std::vector<double> halo_rows;
  int halo_width;
  bigint nexchange;
  // freed host memory is kept for reuse (mlip_host_memory.cpp); its free pages go back
  // to the kernel every TRIM_PERIOD model calls
  static constexpr int TRIM_PERIOD = 100;
  bool keep_memory = false;
  int calls_since_trim = 0;
};

}    // namespace LAMMPS_NS

#endif
