/* ionmd: pair_style ionmd's place on its node: the node-local rank (which picks the GPU),
   the cores this rank may use and the torch threads it starts on them. */

#include "pair_ionmd.h"

#include "comm.h"
#include "error.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <thread>
#include <vector>
#ifdef __linux__
#include <sched.h>
#endif

using namespace LAMMPS_NS;

// Node-local rank and rank count of the whole job as the MPI launcher exports them
// (Open MPI, MPICH's Hydra and Intel MPI, MVAPICH2, Slurm's srun with --ntasks-per-node).
bool PairIonmd::launcher_node_layout(int &rank, int &size)
{
  static const char *const VARS[][2] = {
      {"OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"},
      {"MPI_LOCALRANKID", "MPI_LOCALNRANKS"},
      {"MV2_COMM_WORLD_LOCAL_RANK", "MV2_COMM_WORLD_LOCAL_SIZE"},
      {"SLURM_LOCALID", "SLURM_NTASKS_PER_NODE"}};
  for (const auto &v : VARS) {
    const char *r = std::getenv(v[0]), *n = std::getenv(v[1]);
    if (!r || !n) continue;
    char *end_r = nullptr, *end_n = nullptr;
    const long lr = strtol(r, &end_r, 10), ln = strtol(n, &end_n, 10);
    if (end_r == r || *end_r != '\0' || end_n == n || *end_n != '\0' || lr < 0 || ln < 1 ||
        lr >= ln)
      continue;
    rank = (int) lr;
    size = (int) ln;
    return true;
  }
  return false;
}

// The cores this process may run on and how many ranks of its node share them: its
// affinity mask (a batch job's cgroup or cpuset, a launcher's binding, taskset), not the
// node's core count (a SLURM job given 4 cores of a 128-core node took 128 / ranks
// threads), divided among the node's ranks whose masks overlap it (ranks bound to their own
// cores, `srun -c 4`, keep theirs; ranks sharing one allocation split it). Collective over
// `node`.
void PairIonmd::count_usable_cores(MPI_Comm node)
{
  int n = 1;
  MPI_Comm_size(node, &n);
  usable_cores = std::max(1, (int) std::thread::hardware_concurrency());
  cores_sharers = n;
#ifdef __linux__
  cpu_set_t mine;
  CPU_ZERO(&mine);
  const bool known = sched_getaffinity(0, sizeof(mine), &mine) == 0;
  std::vector<cpu_set_t> all(n);
  MPI_Allgather(&mine, (int) sizeof(cpu_set_t), MPI_BYTE, all.data(), (int) sizeof(cpu_set_t),
                MPI_BYTE, node);
  if (known && CPU_COUNT(&mine) > 0) {
    usable_cores = CPU_COUNT(&mine);
    cores_sharers = 0;
    for (auto &other : all) {
      cpu_set_t both;
      CPU_AND(&both, &other, &mine);
      if (CPU_COUNT(&both) > 0) ++cores_sharers;
    }
  }
#endif
  // a SLURM job given part of a node without a cgroup or binding: its affinity is the whole
  // node, its share SLURM_CPUS_ON_NODE (as ionmd.cores.available_cores counts it)
  const char *slurm = std::getenv("SLURM_CPUS_ON_NODE");
  char *end = nullptr;
  const long job = slurm ? std::strtol(slurm, &end, 10) : 0;
  if (slurm && end != slurm && *end == '\0' && job > 0 && job < usable_cores)
    usable_cores = (int) job;
}

// Without OMP_NUM_THREADS, share the usable cores among the ranks that share them instead
// of letting every rank start one thread per core (oversubscription stalls everything).
// OMP_NUM_THREADS as OpenMP (libgomp) reads it: a positive count, or a list of counts per
// nesting level whose first entry counts, blanks (isspace) around each. A list with any bad
// entry ('4,', '2,abc', '3,0') is ignored whole, as is anything else (and torch would then
// start one thread per core in every rank), so the node's cores are then shared as if unset.
static bool omp_thread_count_given(const char *text)
{
  if (!text) return false;
  for (const char *p = text;; ++p) {      // p: the start of an entry
    while (std::isspace((unsigned char) *p)) ++p;
    if (*p == '\0') return false;          // an empty value or entry
    char *end = nullptr;
    errno = 0;
    const unsigned long n = std::strtoul(p, &end, 10);
    if (errno || (long) n <= 0) return false;     // not a number, 0, negative, too large
    for (p = end; std::isspace((unsigned char) *p); ++p) {}
    if (*p == '\0') return true;
    if (*p != ',') return false;
  }
}

void PairIonmd::configure_threads()
{
  const char *omp = std::getenv("OMP_NUM_THREADS");
  if (omp_thread_count_given(omp)) return;
  if (omp && comm->me == 0)
    error->warning(FLERR, "pair_style ionmd: OMP_NUM_THREADS='{}' is not a thread count "
                   "(OpenMP ignores it); sharing this node's cores among its ranks as if it were "
                   "unset. Set it to a positive number, e.g. OMP_NUM_THREADS=1", omp);
  IONMD::set_intraop_threads(std::max(1, usable_cores / std::max(1, cores_sharers)));
}
