/* ionmd: pair_style ionmd.

   compute() = graph from the neighbour list -> model (energies, dE/d edge_vec) ->
   forces f_i += g, f_j -= g and virial W = -sum_e r_ij (x) g, global and per atom.

   This file holds the pair style's life cycle (construction, init_style, compute, finish);
   its other parts live beside it, one concern each:
     pair_ionmd_settings.cpp         pair_style keywords and pair_coeff elements
     pair_ionmd_load.cpp             loading the model file, the same on every rank
     pair_ionmd_node.cpp             ranks per node, usable cores, torch threads
     pair_ionmd_evaluate.cpp         graph mode, memory mode (fast/low/auto), the model call
     pair_ionmd_accumulate.cpp       energy, forces and virial from the edge gradients
     pair_ionmd_halo.cpp             halo exchange of node features (forward/reverse comm)
     pair_ionmd_memory_guard.cpp     memory budget and the checks against it
     pair_ionmd_memory_estimate.cpp  the graph's size estimated before it is built
     pair_ionmd_memory_probe.cpp     the model's bytes per edge, measured
     pair_ionmd_checks.cpp           checks of the input (masses, labels, exclusions, computes)
     pair_ionmd_special_bonds.cpp    special_bonds weights against the model's bonded pairs
     pair_ionmd_output_checks.cpp    checks of the model's output (closest pair, finite) */

#include "pair_ionmd.h"

#include "ionmd_rank_failure.h"

#include "atom.h"
#include "comm.h"
#include "domain.h"
#include "error.h"
#include "force.h"
#include "memory.h"
#include "neighbor.h"
#include "universe.h"
#include "update.h"
#include "utils.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace LAMMPS_NS;

PairIonmd::PairIonmd(LAMMPS *lmp) :
    Pair(lmp), cutoff(0.0), local_rank(0), local_size(1), time_graph(0.0), time_model(0.0),
    time_assembly(0.0), ncalls(0), halo_width(0), nexchange(0)
{
  reset_settings();
  single_enable = 0;
  restartinfo = 0;
  if (comm) ghost_cut_at_creation = comm->cutghostuser;
  one_coeff = 1;
  manybody_flag = 1;
  no_virial_fdotr_compute = 1;
  centroidstressflag = CENTROID_NOTAVAIL;
  builder = std::make_unique<IonmdGraphBuilder>(lmp);

  // node-local rank: picks the GPU and splits the cores among the ranks of one node
  MPI_Comm node;
  MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, comm->me, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &local_rank);
  MPI_Comm_size(node, &local_size);
  count_usable_cores(node);
  MPI_Comm_free(&node);
  // With -partition (neb, temper, prd, ...) `world` is one partition, but the node's cores,
  // memory and GPUs are shared with the ranks of the other partitions: every partition's
  // rank 0 picked GPU 0 and each rank took all cores / its partition's ranks (N replicas
  // on N cores: N threads each). A collective over all partitions could hang where they
  // run different commands, so the node layout comes from the MPI launcher.
  partitioned_node = false;
  if (universe->nworlds > 1) {
    int rank = -1, size = -1;
    if (launcher_node_layout(rank, size) && size >= local_size) {
      // the other partitions' ranks on this node share cores as this partition's do
      cores_sharers = (cores_sharers * size + local_size - 1) / local_size;
      local_rank = rank;
      local_size = size;
      partitioned_node = true;
      if (comm->me == 0)
        utils::logmesg(lmp, "pair_style ionmd: {} partitions: {} MPI ranks of all partitions on "
                       "this node (from the MPI launcher) share its cores, memory and GPUs\n",
                       universe->nworlds, local_size);
    } else if (comm->me == 0) {
      error->warning(FLERR, "pair_style ionmd: {} partitions, but the MPI launcher does not say "
                     "how many ranks share this node: torch threads, GPU choice and the memory "
                     "budget count only this partition's {} rank(s) on it; set OMP_NUM_THREADS, "
                     "CUDA_VISIBLE_DEVICES and max_memory per partition", universe->nworlds,
                     local_size);
    }
  }
}

PairIonmd::~PairIonmd()
{
  // a later pair style must not inherit this style's redundant ghost shell (layers x
  // cutoff of ghosts it does not need); comm is still alive when LAMMPS replaces or
  // tears down the pair style, a value set since by comm_modify cutoff stays
  if (comm && ghost_cut_raised > 0.0 && comm->cutghostuser == ghost_cut_raised)
    comm->cutghostuser = ghost_cut_before;
  if (allocated) {
    memory->destroy(setflag);
    memory->destroy(cutsq);
  }
}

void PairIonmd::allocate()
{
  allocated = 1;
  const int n = atom->ntypes + 1;
  memory->create(setflag, n, n, "pair:setflag");
  memory->create(cutsq, n, n, "pair:cutsq");
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) setflag[i][j] = 0;
}

void PairIonmd::init_style()
{
  // in 2-d each atom would meet its own periodic z images (a 1 A thick box: pe -118 eV,
  // 68,728 bar for 40 atoms of LiCl) and the model was trained on 3-d structures
  if (domain->dimension != 3)
    error->all(FLERR, "pair_style ionmd is a 3-d potential; use dimension 3 (the input has "
               "'dimension {}')", domain->dimension);
  check_units(" (changed after the pair_style line: a 'units' command or a read_restart "
              "file written in other units)");
  if (atom->tag_enable == 0)
    error->all(FLERR, "pair_style ionmd requires atom IDs, but 'atom_modify id no' turned them "
               "off: remove that atom_modify line");
  skips_checked = false;
  warned_close_pair = false;    // a closer pair made between runs is named at the next setup
  const auto mode = graph_mode();
  const bool ghosts = mode == IonmdGraphBuilder::GHOSTS;
  if (mode != IonmdGraphBuilder::OWNERS && force->newton_pair == 0)
    error->all(FLERR, "pair_style ionmd {} requires 'newton on' (forces on ghost atoms are "
               "summed back to their owners): remove the 'newton off' line (LAMMPS's default "
               "is on), or {}",
               comm->nprocs > 1 ? "on several MPI ranks"
                                : "with a graph of ghost atoms ('ghost halo|redundant', "
                                  "'graph ghosts')",
               comm->nprocs > 1 ? "run on one MPI rank" : "drop that ghost/graph keyword");
  check_special_bonds();
  // LAMMPS builds no neighbour list of ghost atoms with multi-style binning: its own error
  // ("Requested neighbor stencil method does not exist") would not say why
  if (ghosts && (neighbor->style == Neighbor::MULTI || neighbor->style == Neighbor::MULTI_OLD))
    error->all(FLERR, "pair_style ionmd with a redundant ghost shell ({}) needs a neighbour list "
               "of ghost atoms, which LAMMPS does not build with 'neighbor {} {}'; use 'neighbor "
               "{} bin'{}",
               graph_request == GRAPH_GHOSTS ? "'graph ghosts'"
                   : ghost_request == GHOST_REDUNDANT ? "'ghost redundant'"
                                                      : "a model file without stages on several ranks",
               neighbor->skin, neighbor->style == Neighbor::MULTI ? "multi" : "multi/old",
               neighbor->skin,
               meta.halo_stages > 0 ? " or 'ghost halo'" : "");
  neighbor->add_request(this, NeighConst::REQ_FULL | (ghosts ? NeighConst::REQ_GHOST : 0));

  if (comm->me == 0 && memory_mode == MEMORY_LOW && uses_stages(mode, 0))
    utils::logmesg(lmp, "pair_style ionmd: memory low: the backward pass recomputes one of "
                   "the {} stages at a time{} ('memory fast' keeps every stage's "
                   "intermediates)\n", meta.halo_stages,
                   edge_chunk > 0 ? fmt::format(", in chunks of {} edges", edge_chunk) : "");
  if (memory_given && memory_mode == MEMORY_LOW && !uses_stages(mode, 0) && comm->me == 0)
    error->warning(FLERR, "pair_style ionmd: 'memory low' needs a model file with per-layer "
                   "stages and a graph of local atoms or 'ghost halo'; {} runs as 'memory fast'",
                   meta.halo_stages > 0 ? "this 'ghost redundant' graph"
                                                     : "this model file (no stages)");
  if (mode == IonmdGraphBuilder::HALO && comm->me == 0) {
    std::vector<std::string> widths;
    for (int w : meta.halo_widths) widths.push_back(std::to_string(w));
    utils::logmesg(lmp, "pair_style ionmd: halo exchange between {} stages, ghost shell of one "
                   "cutoff ({} A + {} A skin), feature widths {}\n",
                   meta.halo_stages, cutoff, neighbor->skin,
                   utils::join_words(widths, " "));
  }

  // this style's own raise of the ghost cutoff at an earlier init is undone first: the
  // mode, the model or the skin may have changed since (a redundant shell kept for a halo
  // or smaller-model run held layers x cutoff of ghosts for nothing); a value set since by
  // comm_modify cutoff stays
  if (ghost_cut_raised > 0.0 && comm->cutghostuser == ghost_cut_raised)
    comm->cutghostuser = ghost_cut_before;
  ghost_cut_raised = 0.0;
  // exact local energies need every atom within num_layers * cutoff
  const double shell = meta.num_layers * cutoff + neighbor->skin;
  forget_restart_ghost_shell(shell, ghosts);
  if (ghosts) {
    if (comm->cutghostuser < shell) {
      ghost_cut_before = comm->cutghostuser;
      comm->cutghostuser = ghost_cut_raised = shell;
    }
    if (comm->me == 0)
      utils::logmesg(lmp, "pair_style ionmd: redundant ghost shell of {:.3f} A "
                     "({} layers x {} A cutoff + {} A skin)\n",
                     shell, meta.num_layers, cutoff, neighbor->skin);
  }
  check_tiled_reach(mode);
  check_neighbor_exclusions();
  check_heat_flux();
  check_type_labels();
  check_masses();
  // before LAMMPS builds the ghost shell and long before the model allocates anything
  set_memory_budget();
  check_estimated_memory(mode, std::max(comm->cutghostuser, cutoff + neighbor->skin));
}

double PairIonmd::init_one(int i, int j)
{
  if (setflag[i][j] == 0 && type2species[i] >= 0 && type2species[j] >= 0)
    error->all(FLERR, "pair_coeff for pair_style ionmd has not been set");
  return cutoff;
}

static double seconds_since(std::chrono::steady_clock::time_point t0)
{
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void PairIonmd::compute(int eflag, int vflag)
{
  ev_init(eflag, vflag);
  if (!skips_checked) {
    skips_checked = true;
    check_hybrid_skipped_pairs();
    if (force->pair != this) check_hybrid_special_pairs();
  }
  ++ncalls;
  auto t0 = std::chrono::steady_clock::now();
  const auto mode = graph_mode();
  builder->build(mode, list, type2species, cutoff * cutoff, graph);
  time_graph += seconds_since(t0);
  // collective (every rank calls setup's force computation), so before any rank returns
  if (update->setupflag && !warned_close_pair) warn_close_pair();
  const bool halo = mode == IonmdGraphBuilder::HALO;
  // an empty subdomain contributes nothing, but in halo mode it still joins the exchanges,
  // and it joins the collective checks of the others' memory, model call and output
  if (graph.nlocal == 0 && !halo) {
    if (comm->nprocs > 1) {
      IONMD::stop_if_any_rank_failed(error, world, comm->me, comm->nprocs, "");    // memory
      IONMD::stop_if_any_rank_failed(error, world, comm->me, comm->nprocs, "");    // model call
    }
    check_finite(false);
    return;
  }
  check_graph_memory(mode);

  t0 = std::chrono::steady_clock::now();
  try {
    evaluate(graph, mode, eflag_atom != 0, result);
  } catch (const std::exception &e) {
    model_call_failed(e.what(), mode);
  }
  // the other ranks' failed model calls (model_call_failed): under 'ghost halo' a rank whose
  // stage failed joined the remaining exchanges with zeros, so it reaches this point too
  if (comm->nprocs > 1) IONMD::stop_if_any_rank_failed(error, world, comm->me, comm->nprocs, "");
  time_model += seconds_since(t0);
  // kept memory fragments as the graph changes size each step: hand the free pages back
  // now and then so the resident set cannot creep (costs one call's page faults per period)
  if (keep_memory && ++calls_since_trim >= TRIM_PERIOD) {
    IONMD::release_freed_host_memory();
    calls_since_trim = 0;
  }
  t0 = std::chrono::steady_clock::now();
  check_finite();
  accumulate();
  time_assembly += seconds_since(t0);
}

/* LAMMPS writes comm->cutghostuser into restart files, so the raise above (a redundant shell
   of layers x cutoff + skin) came back from write_restart as if the user had set it with
   comm_modify cutoff: a 'ghost halo' or one-rank run read from that file kept the 10 A
   shell (2.4x the ghosts). Its exact value is this style's signature: a fresh instance
   (read_restart builds none: restartinfo = 0) that was created with it and finds it
   unchanged at its first init takes it back to LAMMPS's default, as the instance that raised
   it would have done at its end, and says so; a comm_modify cutoff given since stays. */
void PairIonmd::forget_restart_ghost_shell(double shell, bool ghosts)
{
  const double inherited = ghost_cut_at_creation;
  ghost_cut_at_creation = -1.0;    // a value set after this style was created is the user's
  if (inherited <= 0.0 || comm->cutghostuser != inherited ||
      std::fabs(inherited - shell) > 1e-9 * shell)
    return;
  if (ghosts) {    // the same shell again: restored at this instance's end like its own
    ghost_cut_before = 0.0;
    ghost_cut_raised = comm->cutghostuser;
    return;
  }
  if (comm->me == 0)
    utils::logmesg(lmp, "pair_style ionmd: the communication cutoff of {:.3f} A is the redundant "
                   "ghost shell of this model ({} layers x {} A + {} A skin, raised by 'ghost "
                   "redundant' and kept in restart files); this run needs none, so it is reset "
                   "to LAMMPS's default (a 'comm_modify cutoff' after this pair_style is "
                   "kept)\n", comm->cutghostuser, meta.num_layers, cutoff, neighbor->skin);
  comm->cutghostuser = 0.0;
}

// A failed model call stops the run with the pair style's error. Running out of memory (the
// guard's budget was more than the rank could get: a job's per-rank allocation below what
// the node shows, another process growing) says so and what to change. On several ranks,
// every rank reaches the collective check after the call (under 'ghost halo' a failing
// stage's rank keeps joining the call's exchanges with zero rows to its end), so the failing
// rank's reason stops them all and rank 0 writes it to log.lammps (with Error::one on a rank
// other than 0 it reached that rank's stdout only, and `ionmd run` recorded the run as
// interrupted, resumable; under 'ghost halo' the others waited in the exchanges).
void PairIonmd::model_call_failed(const std::string &what, IonmdGraphBuilder::Mode mode)
{
  static const char *const OOM[] = {"out of memory", "not enough memory", "can't allocate",
                                    "cannot allocate", "bad_alloc", "Cannot allocate"};
  bool oom = false;
  for (const char *s : OOM) oom = oom || what.find(s) != std::string::npos;
  const std::string why = !oom
      ? (comm->nprocs > 1 ? fmt::format("pair_style ionmd at step {}: the model call failed on "
                                        "MPI rank {}: {}", update->ntimestep, comm->me, what)
                          : fmt::format("pair_style ionmd at step {}: {}", update->ntimestep,
                                        what))
      : fmt::format(
            "pair_style ionmd at step {}: rank {} ran out of memory in the model call ({}; the "
            "graph: {} local + {} ghost atoms, {} edges; memory budget {}); set 'max_memory "
            "GiB' (it bounds the model call's graph) to this rank's share of the job's "
            "allocation less what the rank holds before the call, {}or run on more ranks or "
            "nodes (fewer atoms each)", update->ntimestep, comm->me, what, graph.nlocal,
            graph.nnodes() - graph.nlocal, graph.nedges(),
            memory_budget > 0.0 ? fmt::format("{:.2f} GiB ({})", memory_budget / GIB,
                                              budget_source)
                                : std::string("off"),
            out_of_memory_fix(mode));
  if (comm->nprocs > 1)
    IONMD::stop_if_any_rank_failed(error, world, comm->me, comm->nprocs, why);
  error->one(FLERR, "{}", why);
}

// What recomputation offers a call that ran out of memory, as '..., ' (empty: nothing):
// 'memory low' only where it recomputes (per-layer stages and a graph of local atoms or
// 'ghost halo'); a model file without stages or a redundant ghost shell runs as 'memory
// fast' whatever is asked, so the advice named a keyword that changes nothing there.
std::string PairIonmd::out_of_memory_fix(IonmdGraphBuilder::Mode mode) const
{
  if (meta.halo_stages <= 0) return "";
  if (mode == IonmdGraphBuilder::GHOSTS)
    return fmt::format("use 'ghost halo' instead of {} (a ghost shell of one cutoff instead "
                       "of layers x cutoff) with 'memory low', ",
                       graph_request == GRAPH_GHOSTS ? "'graph ghosts'" : "'ghost redundant'");
  if (!recomputes((double) graph.nedges())) return "use 'memory low', ";
  return edge_chunk > 0
      ? fmt::format("give a smaller 'chunk EDGES' (the stages were recomputed in chunks of "
                    "{} edges), ", edge_chunk)
      : std::string("give 'chunk EDGES' (the stages were recomputed whole), ");
}

// End of a run: where the pair time went, so the cost of the plugin around the model
// (graph building, force/virial assembly) is measured inside the same run.
void PairIonmd::finish()
{
  double local[3] = {time_graph, time_model, time_assembly}, total[3];
  MPI_Allreduce(local, total, 3, MPI_DOUBLE, MPI_SUM, world);
  if (comm->me == 0 && ncalls > 0 && total[1] > 0.0)
    utils::logmesg(lmp,
                   "pair_style ionmd timing (summed over ranks): {} calls, model {:.4g} s, "
                   "graph {:.4g} s, assembly {:.4g} s, plugin overhead {:.2f}% of model time\n",
                   ncalls, total[1], total[0], total[2], 100.0 * (total[0] + total[2]) / total[1]);
  if (comm->me == 0 && nexchange > 0)
    utils::logmesg(lmp, "pair_style ionmd halo: {} feature exchanges in {} calls (model time "
                   "includes them)\n", nexchange, ncalls);
  time_graph = time_model = time_assembly = 0.0;
  ncalls = 0;
  nexchange = 0;
  report_auto_switches();
  report_peak_memory();
}

// Peak memory per rank (host resident set, and the model's GPU allocations when on a
// GPU): the number that decides how large a supercell fits on a node.
void PairIonmd::report_peak_memory()
{
  double local[2] = {std::max(host_peak_rss_mib(), peak_saved[0]),
                     model ? std::max(model->device_peak_mib(), peak_saved[1]) : -1.0}, peak[2];
  MPI_Allreduce(local, peak, 2, MPI_DOUBLE, MPI_MAX, world);
  if (comm->me != 0) return;
  if (peak[1] >= 0.0)
    utils::logmesg(lmp, "pair_style ionmd peak memory per rank (max over ranks): host {:.1f} MiB, "
                   "GPU {:.1f} MiB\n", peak[0], peak[1]);
  else
    utils::logmesg(lmp, "pair_style ionmd peak memory per rank (max over ranks): host {:.1f} MiB\n",
                   peak[0]);
}

// VmHWM of /proc/self/status (Linux); 0 where it cannot be read.
double PairIonmd::host_peak_rss_mib()
{
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return 0.0;
  char line[256];
  double kib = 0.0;
  while (fgets(line, sizeof(line), f))
    if (strncmp(line, "VmHWM:", 6) == 0) kib = atof(line + 6);
  fclose(f);
  return kib / 1024.0;
}
