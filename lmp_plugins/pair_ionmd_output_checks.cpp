/* ionmd: pair_style ionmd's checks of the model's output: the closest pair of atoms in the
   graph, named once where it is closer than CLOSE_PAIR at a setup, and a stop at the first
   non-finite energy or force, saying the likely cause. */

#include "pair_ionmd.h"

#include "ionmd_rank_failure.h"

#include "atom.h"
#include "comm.h"
#include "error.h"
#include "input.h"
#include "update.h"
#include "utils.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

using namespace LAMMPS_NS;

PairIonmd::ClosestPair PairIonmd::closest_pair() const
{
  ClosestPair p;
  const auto &node_atom = builder->node_atom();
  double best = HUGE_VAL;
  int64_t closest = -1;
  for (int64_t e = 0; e < graph.nedges(); ++e) {
    const double *r = &graph.edge_vec[3 * e];
    const double rsq = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
    if (rsq < best) {
      best = rsq;
      closest = e;
    }
  }
  if (closest < 0) return p;
  const tagint a = atom->tag[node_atom[graph.edge_i[closest]]],
               b = atom->tag[node_atom[graph.edge_j[closest]]];
  p.distance = sqrt(best);
  p.id1 = std::min(a, b);
  p.id2 = std::max(a, b);
  return p;
}

// Atoms closer than CLOSE_PAIR at a setup are no structure any model was trained on, and
// its energy there means nothing, but it may be finite (a Li 0.012 A from another: pe
// -1.15e6 eV, no error): LAMMPS styles warn rather than refuse, so the closest pair is
// named once. Collective: setup's force call runs on every rank.
void PairIonmd::warn_close_pair()
{
  const ClosestPair mine = closest_pair();
  struct {
    double distance;
    int rank;
  } local = {mine.id1 > 0 ? mine.distance : HUGE_VAL, comm->me}, global;
  MPI_Allreduce(&local, &global, 1, MPI_DOUBLE_INT, MPI_MINLOC, world);
  if (!(global.distance < CLOSE_PAIR)) return;
  warned_close_pair = true;
  tagint ids[2] = {mine.id1, mine.id2};
  MPI_Bcast(ids, 2, MPI_LMP_TAGINT, global.rank, world);
  if (comm->me == 0)
    error->warning(FLERR, "pair_style ionmd: atoms {} and {} are {:.5f} A apart at step {}, "
                   "closer than {} A: no model was trained on such a structure and its energy "
                   "and forces there mean nothing; check the input for overlapping atoms (a data "
                   "file read twice, a wrong replicate or lattice constant, create_atoms over "
                   "existing atoms)", ids[0], ids[1], global.distance, update->ntimestep,
                   CLOSE_PAIR);
}

// Never integrate on garbage: stop at the first non-finite energy or force, on every rank
// at once (collective: each rank's compute calls it, an empty subdomain's too), with the
// first failing rank's message printed by rank 0, the one that writes log.lammps. Raised
// with Error::one on the failing rank alone, a rank other than 0 printed it to its own
// stdout only and aborted: log.lammps ended without it (and without its buffered thermo
// rows), and `ionmd analyze`, which reads the log, found no nan_model (mpirun -n 2, NaN
// on rank 1's atoms).
void PairIonmd::check_finite(bool evaluated)
{
  bool ok = true;
  if (evaluated) {
    ok = std::isfinite(result.energy);
    for (double g : result.edge_grad) ok = ok && std::isfinite(g);
  }
  IONMD::stop_if_any_rank_failed(error, world, comm->me, comm->nprocs,
                                 ok ? std::string() : non_finite_message());
}

// Why this rank's model output is not finite, naming the closest pair of its graph (where a
// model breaks down first) and the likely cause. At a structure given to the model (the
// setup of a run, every frame of a rerun, which integrates nothing) the dynamics cannot be
// at fault: overlapping atoms are, where a pair is closer than CLOSE_PAIR; otherwise the
// model itself is (a model failing everywhere stopped at step 0, closest pair 2.399 A, with
// advice to look for a data file read twice).
std::string PairIonmd::non_finite_message() const
{
  const ClosestPair p = closest_pair();
  const std::string on_rank =
      comm->nprocs > 1 ? fmt::format(" on MPI rank {}", comm->me) : std::string();
  const std::string closest =
      p.id1 > 0 ? fmt::format("; the closest pair{} is atoms {} and {}, {:.5f} A apart",
                              on_rank, p.id1, p.id2, p.distance)
                : std::string();
  const bool rerun = input->command && strcmp(input->command, "rerun") == 0;
  if (!rerun && !update->setupflag)
    return fmt::format("pair_style ionmd: the model returned a non-finite energy or force at "
                       "step {}{} (atoms too close, or the simulation exploded){}; check the "
                       "previous dump frames and lower the timestep or the temperature",
                       update->ntimestep, on_rank, closest);
  const std::string where =
      rerun ? fmt::format("step {}, a frame of this rerun{}", update->ntimestep, closest)
            : fmt::format("step {}, the first step of this run{}", update->ntimestep, closest);
  if (p.id1 > 0 && p.distance < CLOSE_PAIR)
    return fmt::format("pair_style ionmd: the model returned a non-finite energy or force at "
                       "{}: {}, not the dynamics; check it for overlapping atoms (a data file "
                       "read twice, a wrong replicate or lattice constant, create_atoms over "
                       "existing atoms)", where,
                       rerun ? "rerun integrates nothing, so the frame as the dump file has it "
                               "is at fault"
                             : "the structure the run starts from is at fault");
  std::vector<std::string> elements;
  for (int t = 1; t < (int) type2species.size(); ++t)
    if (type2species[t] >= 0) {
      const std::string &el = meta.elements[type2species[t]];
      if (std::find(elements.begin(), elements.end(), el) == elements.end())
        elements.push_back(el);
    }
  return fmt::format("pair_style ionmd: the model returned a non-finite energy or force at {}, "
                     "with no atoms closer than {} A{}: at a structure given to it ({}), not "
                     "one the dynamics made, the model itself is the likely cause: model file "
                     "{} (elements {}) fails on this structure; check that the file is the "
                     "model you meant (its export, the elements in pair_coeff) and try it on "
                     "this structure outside LAMMPS",
                     where, CLOSE_PAIR, on_rank,
                     rerun ? "rerun integrates nothing" : "the run starts from it", model_file,
                     utils::join_words(elements, " "));
}
