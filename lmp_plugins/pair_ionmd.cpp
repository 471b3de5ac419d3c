/* ionmd: pair_style ionmd.

   compute() = graph from the neighbour list -> model (energies, dE/d edge_vec) ->
   forces f_i += g, f_j -= g and virial W = -sum_e r_ij (x) g, global and per atom.
   The virial is accumulated edge by edge rather than by fdotr, because in the
   single-rank graph the force lands on the owner, not on the ghost image.

   Halo mode (staged models, several ranks): the graph holds local and ghost atoms
   within one cutoff, edges only into local atoms; the model runs stage by stage and
   the node features of ghost atoms are filled between stages by comm->forward_comm(this),
   their gradients summed back into the owners by comm->reverse_comm(this)
   (forward()/reverse() below, called by the model runtime). */

#include "pair_ionmd.h"

#include "ionmd_elements.h"

#include "atom.h"
#include "comm.h"
#include "domain.h"
#include "error.h"
#include "force.h"
#include "group.h"
#include "input.h"
#include "memory.h"
#include "modify.h"
#include "fix.h"
#include "neigh_list.h"
#include "neighbor.h"
#include "universe.h"
#include "update.h"
#include "utils.h"
#include "variable.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#ifdef __linux__
#include <sched.h>
#endif
#include <cstdint>
#include <cstdlib>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <thread>

using namespace LAMMPS_NS;

namespace {
constexpr double GIB = 1024.0 * 1024.0 * 1024.0;
constexpr double PI = 3.14159265358979323846;
// probe only when a graph at this many bytes per edge would not fit (above every measured model)
constexpr double MAX_BYTES_PER_EDGE = 4.0 * 1024.0 * 1024.0;
// below this the measurement is noise: the graph's own tensors take ~100 bytes per edge
constexpr double MIN_BYTES_PER_EDGE = 128.0;
// the estimate from the mean density can be ~20 % high (26 neighbours within 5 A in rock-salt
// LiCl, 31 from its density): init_style stops only beyond this factor, the graph's real
// counts decide at the first step
constexpr double INIT_MARGIN = 1.25;
constexpr int PROBE_DEGREE = 24;    // senders per node, distinct: nodes > degree
constexpr int PROBE_NODES[2] = {25, 100};
constexpr int PROBE_CHUNK = 128;      // edges per chunk when the probe measures chunked stages
}    // namespace

PairIonmd::PairIonmd(LAMMPS *lmp) :
    Pair(lmp), cutoff(0.0), local_rank(0), local_size(1), time_graph(0.0), time_model(0.0),
    time_assembly(0.0), ncalls(0), halo_width(0), nexchange(0)
{
  reset_settings();
  single_enable = 0;
  restartinfo = 0;
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

// The keywords' defaults: a pair_style line given again (LAMMPS keeps the object of the
// same style and calls settings() again) means only what it says, not the earlier line's.
void PairIonmd::reset_settings()
{
  device_request = "auto";
  graph_request = GRAPH_AUTO;
  ghost_request = GHOST_AUTO;
  memory_mode = MEMORY_AUTO;
  memory_given = chunk_given = max_memory_given = false;
  edge_chunk = DEFAULT_EDGE_CHUNK;
  max_memory_gb = -1.0;
  told_auto_low = false;
}

// What a data file written in `units` needs to become one in metal units.
static std::string units_conversion_advice(const std::string &units)
{
  if (units == "real")
    return "; a 'real' data file keeps its coordinates (A) and masses (g/mol), its Velocities "
           "x 1000 (A/fs to A/ps)";
  if (units == "lj")
    return "; 'lj' units are reduced (sigma, epsilon, mass): coordinates, masses and "
           "velocities of a data file must be converted to A, g/mol and A/ps for the elements "
           "of pair_coeff";
  if (units == "si" || units == "cgs")
    return fmt::format("; a '{}' data file needs its coordinates in A ({} x {}), masses in "
                       "g/mol and velocities in A/ps", units, units == "si" ? "m" : "cm",
                       units == "si" ? "1e10" : "1e8");
  if (units == "electron")
    return "; an 'electron' data file needs its coordinates in A (Bohr x 0.529177), masses in "
           "g/mol (amu) and velocities in A/ps";
  if (units == "micro" || units == "nano")
    return fmt::format("; a '{}' data file needs its coordinates in A ({} x {}), masses in "
                       "g/mol and velocities in A/ps", units,
                       units == "micro" ? "micrometres" : "nanometres",
                       units == "micro" ? "1e4" : "10");
  return "";
}

/* pair_style ionmd FILE [device D] [graph auto|owners|ghosts] [ghost auto|redundant|halo]
                    [memory auto|fast|low] [chunk EDGES] [max_memory auto|off|GiB] */
void PairIonmd::settings(int narg, char **arg)
{
  if (narg < 1)
    error->all(FLERR, "Illegal pair_style ionmd command: expected "
               "'pair_style ionmd FILE [device auto|cpu|cuda|cuda:N] [graph auto|owners|ghosts] "
               "[ghost auto|redundant|halo] [memory auto|fast|low] [chunk EDGES] [max_memory auto|off|GiB]'");
  if (strcmp(update->unit_style, "metal") != 0)
    error->all(FLERR, "pair_style ionmd requires 'units metal' (models use eV and Angstrom), "
               "but units are '{}': put 'units metal' before read_data or create_box, with "
               "times in ps (timestep 0.001 is 1 fs) and velocities in Angstrom/ps{}",
               update->unit_style, units_conversion_advice(update->unit_style));
  reset_settings();
  const std::vector<std::string> previous_elements =
      model ? meta.elements : std::vector<std::string>();
  model_file = arg[0];
  for (int iarg = 1; iarg < narg; iarg += 2) {
    if (iarg + 1 >= narg)
      error->all(FLERR, "pair_style ionmd: keyword '{}' needs a value", arg[iarg]);
    const std::string key = arg[iarg], val = arg[iarg + 1];
    if (key == "device") {
      device_request = val;
    } else if (key == "graph") {
      if (val == "auto") graph_request = GRAPH_AUTO;
      else if (val == "owners") graph_request = GRAPH_OWNERS;
      else if (val == "ghosts") graph_request = GRAPH_GHOSTS;
      else error->all(FLERR, "pair_style ionmd: graph must be auto, owners or ghosts, not '{}'", val);
    } else if (key == "ghost") {
      if (val == "auto") ghost_request = GHOST_AUTO;
      else if (val == "redundant") ghost_request = GHOST_REDUNDANT;
      else if (val == "halo") ghost_request = GHOST_HALO;
      else error->all(FLERR, "pair_style ionmd: ghost must be auto, redundant or halo, not '{}'", val);
    } else if (key == "memory") {
      memory_given = true;
      if (val == "auto") memory_mode = MEMORY_AUTO;
      else if (val == "fast") memory_mode = MEMORY_FAST;
      else if (val == "low") memory_mode = MEMORY_LOW;
      else error->all(FLERR, "pair_style ionmd: memory must be auto, fast or low, not '{}'", val);
    } else if (key == "chunk") {
      char *end = nullptr;
      const long long n = strtoll(val.c_str(), &end, 10);
      if (end == val.c_str() || *end != '\0' || n < 0)
        error->all(FLERR, "pair_style ionmd: chunk must be a number of edges >= 0 (0: whole "
                   "stages), not '{}'", val);
      edge_chunk = n;
      chunk_given = true;
    } else if (key == "max_memory") {
      max_memory_given = true;
      if (val == "auto") max_memory_gb = -1.0;
      else if (val == "off") max_memory_gb = 0.0;
      else {
        char *end = nullptr;
        max_memory_gb = strtod(val.c_str(), &end);
        if (end == val.c_str() || *end != '\0' || !(max_memory_gb > 0.0))
          error->all(FLERR, "pair_style ionmd: max_memory must be auto, off or a positive number "
                     "of GiB per MPI rank, not '{}'", val);
      }
    } else {
      error->all(FLERR, "pair_style ionmd: unknown keyword '{}' (known: device, graph, ghost, "
                 "memory, chunk, max_memory)", key);
    }
  }
  if (ghost_request == GHOST_HALO && graph_request != GRAPH_AUTO)
    error->all(FLERR, "pair_style ionmd: 'ghost halo' cannot be combined with 'graph {}'; "
               "drop the graph keyword", graph_request == GRAPH_OWNERS ? "owners" : "ghosts");
  if (graph_request == GRAPH_OWNERS && comm->nprocs > 1)
    error->all(FLERR, "pair_style ionmd: 'graph owners' needs one MPI rank but {} are running; "
               "use 'graph auto'", comm->nprocs);
  load_model();
  model->set_edge_chunk(edge_chunk);
  if (allocated && meta.elements != previous_elements) {
    // the atom types were mapped to the previous model's species numbers
    type2species.clear();
    const int n = atom->ntypes + 1;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) setflag[i][j] = 0;
    if (comm->me == 0)
      error->warning(FLERR, "pair_style ionmd: {} has other elements than the previous model; "
                     "give pair_coeff * * with its elements again", model_file);
  }

  const auto &m = meta;
  if (ghost_request == GHOST_HALO && m.halo_stages == 0)
    error->all(FLERR, "pair_style ionmd: 'ghost halo' needs a model file with per-layer stages, "
               "but {} has none; re-export it with `ionmd export ... --stages` (TorchScript "
               "SevenNet/MACE, eSEN packages) or use 'ghost redundant'", model_file);
  // LAMMPS sizes its communication buffers from these (Comm::init); one double per feature
  comm_forward = comm_reverse =
      m.halo_widths.empty() ? 0 : *std::max_element(m.halo_widths.begin(), m.halo_widths.end());
}

void PairIonmd::load_model()
{
  configure_threads();
  const bool kept = keep_memory = IONMD::keep_freed_host_memory();
  if (kept && comm->me == 0)
    utils::logmesg(lmp, "pair_style ionmd: host allocator keeps freed memory for reuse "
                   "(glibc mmap off; IONMD_SYSTEM_MALLOC=1 turns this off)\n");
  std::string failure;
  try {
    model = IONMD::IonmdModel::load(model_file.c_str(), device_request.c_str(), local_rank);
    meta = IONMD::parse_metadata(model->metadata_text(), model_file);
  } catch (IONMD::IonmdError &e) {
    failure = e.what();
  }
  stop_unless_loaded_everywhere(failure);
  stop_unless_same_model_everywhere();
  const auto &m = meta;
  cutoff = m.cutoff;
  rss_after_load = IONMD::host_rss_bytes();
  probed = fast_probed = false;
  bytes_per_edge = fast_bytes_per_edge = 0.0;
  on_gpu = model->device_allocated_bytes() >= 0.0;
  // the ranks of this node that share this model's device (the CPU, or one GPU) share its memory
  MPI_Comm node, same;
  MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, comm->me, MPI_INFO_NULL, &node);
  MPI_Comm_split(node, (int) (std::hash<std::string>{}(model->device_name()) & 0x7fffffff),
                 comm->me, &same);
  MPI_Comm_size(same, &device_sharers);
  MPI_Comm_free(&same);
  MPI_Comm_free(&node);
  // partitions: all the node's ranks share its host memory (a GPU's sharers in other
  // partitions are not known here; its free memory is measured when the budget is set)
  if (partitioned_node && !on_gpu) device_sharers = std::max(device_sharers, local_size);
  if (comm->me == 0)
    utils::logmesg(lmp,
                   "pair_style ionmd: {} model {} ({}), cutoff {} A, {} message-passing layers, "
                   "{} elements, device {}, {} torch thread(s) per rank ({} usable core(s), "
                   "shared by {} rank(s) of this node)\n",
                   m.family, model_file, m.dtype, m.cutoff, m.num_layers, m.elements.size(),
                   model->device_name(), IONMD::intraop_threads(), usable_cores, cores_sharers);
  const auto kernels = m.raw.find("kernels");
  if (comm->me == 0 && kernels != m.raw.end() && !kernels->second.empty() &&
      kernels->second != "e3nn") {
    const auto method = m.raw.find("kernel_method");
    utils::logmesg(lmp, "pair_style ionmd: equivariant kernels {} ({})\n", kernels->second,
                   method == m.raw.end() ? "" : method->second);
  }
}

// Every rank stops when any rank could not load the model. A file or device only some
// ranks cannot use (the model copied to node-local scratch on the first node only, a GPU
// missing on one node) made error->all on those ranks alone wait in a barrier that the
// others never reached: the job hung without a message until its wall time. Collective.
void PairIonmd::stop_unless_loaded_everywhere(const std::string &failure)
{
  const int nprocs = comm->nprocs;
  int mine = failure.empty() ? nprocs : comm->me, first = nprocs;
  MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, world);
  if (first == nprocs) return;
  int failed = failure.empty() ? 0 : 1, nfailed = 0;
  MPI_Allreduce(&failed, &nfailed, 1, MPI_INT, MPI_SUM, world);
  // the first failing rank's message and host, on every rank
  char host[MPI_MAX_PROCESSOR_NAME] = {0};
  int host_len = 0;
  MPI_Get_processor_name(host, &host_len);
  std::string msg = failure + std::string(1, '\0') + std::string(host, host_len);
  int len = (int) msg.size();
  MPI_Bcast(&len, 1, MPI_INT, first, world);
  msg.resize(len);
  MPI_Bcast(&msg[0], len, MPI_CHAR, first, world);
  const size_t cut = msg.find('\0');
  const std::string what = msg.substr(0, cut), where = msg.substr(cut + 1);
  if (nfailed == nprocs) error->all(FLERR, "pair_style ionmd: {}", what);
  error->all(FLERR, "pair_style ionmd: {} MPI rank(s) of {} could not load the model, the others "
             "could (rank {} on host {}: {}); the model file (or the device) differs between "
             "the nodes or ranks: put {} on storage every node reads, or copy it to each node",
             nfailed, nprocs, first, where, what, model_file);
}

// FNV-1a over the file's 64-bit words (and its tail): a fingerprint of its content, read
// from the page cache the load has just filled; 0 where it cannot be read.
static uint64_t file_fingerprint(const std::string &path)
{
  FILE *f = fopen(path.c_str(), "rb");
  if (!f) return 0;
  uint64_t h = 1469598103934665603ull;
  std::vector<uint64_t> buf(1 << 16);
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size() * sizeof(uint64_t), f)) > 0) {
    const size_t words = n / sizeof(uint64_t);
    for (size_t k = 0; k < words; ++k) h = (h ^ buf[k]) * 1099511628211ull;
    if (n % sizeof(uint64_t)) {
      uint64_t tail = 0;
      memcpy(&tail, reinterpret_cast<const char *>(buf.data()) + words * sizeof(uint64_t),
             n % sizeof(uint64_t));
      h = (h ^ tail ^ n) * 1099511628211ull;
    }
  }
  fclose(f);
  return h;
}

// Every rank must run the same model: a stale copy of the file on one node's local
// scratch gave the atoms of that node's subdomains another potential, with no error
// (energy not conserved, forces not summing to zero). Collective.
void PairIonmd::stop_unless_same_model_everywhere()
{
  if (comm->nprocs == 1) return;
  // read once per node and path: those ranks see the same file
  MPI_Comm node, same;
  MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, comm->me, MPI_INFO_NULL, &node);
  MPI_Comm_split(node, (int) (std::hash<std::string>{}(model_file) & 0x7fffffff), comm->me,
                 &same);
  int reader = 0;
  MPI_Comm_rank(same, &reader);
  unsigned long long mine = reader == 0 ? file_fingerprint(model_file) : 0;
  MPI_Bcast(&mine, 1, MPI_UNSIGNED_LONG_LONG, 0, same);
  MPI_Comm_free(&same);
  MPI_Comm_free(&node);
  unsigned long long first = mine;
  MPI_Bcast(&first, 1, MPI_UNSIGNED_LONG_LONG, 0, world);
  int differs = mine != first ? 1 : 0, ndiffer = 0;
  MPI_Allreduce(&differs, &ndiffer, 1, MPI_INT, MPI_SUM, world);
  if (ndiffer == 0) return;
  // the first such rank's host
  int rank = differs ? comm->me : comm->nprocs, other = 0;
  MPI_Allreduce(&rank, &other, 1, MPI_INT, MPI_MIN, world);
  char host[MPI_MAX_PROCESSOR_NAME + 1] = {0};
  int len = 0;
  MPI_Get_processor_name(host, &len);
  MPI_Bcast(host, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, other, world);
  error->all(FLERR, "pair_style ionmd: the model file {} is not the same file on every MPI rank: "
             "{} of {} ranks (the first: rank {} on host {}) read other content than rank 0; a "
             "copy on node-local storage is stale or incomplete on some nodes: put the file on "
             "storage every node reads, or copy the same file to each node", model_file, ndiffer,
             comm->nprocs, other, host);
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

// Atoms of each type over all ranks (index = type). Collective.
std::vector<bigint> PairIonmd::atoms_per_type() const
{
  std::vector<bigint> mine(atom->ntypes + 1, 0), all(atom->ntypes + 1, 0);
  for (int i = 0; i < atom->nlocal; ++i) ++mine[atom->type[i]];
  MPI_Allreduce(mine.data(), all.data(), atom->ntypes + 1, MPI_LMP_BIGINT, MPI_SUM, world);
  return all;
}

// A data file can declare more atom types than it has elements (types for later atoms, a
// writer's fixed type list): those types need an element in pair_coeff too.
std::string PairIonmd::empty_types_note(const std::vector<bigint> &count) const
{
  std::vector<std::string> empty;
  for (int t = 1; t <= atom->ntypes; ++t)
    if (count[t] == 0) empty.push_back(std::to_string(t));
  if (empty.empty()) return "";
  const bool many = empty.size() > 1;
  return fmt::format(" (atom type{} {} {} no atoms but count{} too: give {} an element of its "
                     "mass, or NULL under pair_style hybrid)", many ? "s" : "",
                     utils::join_words(empty, " "), many ? "have" : "has", many ? "" : "s",
                     many ? "each" : "it");
}

/* pair_coeff * * El1 El2 ... with one element (or NULL) per atom type */
void PairIonmd::coeff(int narg, char **arg)
{
  if (!allocated) allocate();
  const int ntypes = atom->ntypes;
  const std::string third = narg > 2 ? arg[2] : "";
  const auto ends_with = [&](const std::string &suffix) {
    return third.size() > suffix.size() &&
        third.compare(third.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (narg == 3 + ntypes && (third == model_file || ends_with(".pt") || ends_with(".pt2"))) {
    // under hybrid the file follows the sub-style's name in the pair_style line
    const bool sub = force->pair != this;
    std::vector<std::string> els;
    for (int k = 3; k < narg; ++k) els.emplace_back(arg[k]);
    error->all(FLERR, "pair_coeff for pair_style ionmd takes '* *' and the elements only: the "
               "model file ({}) belongs in 'pair_style {}ionmd FILE{}'; the line is "
               "'pair_coeff * * {}{}'", arg[2], sub ? fmt::format("{} ", force->pair_style) : "",
               sub ? " <other sub-styles>" : "", sub ? "ionmd " : "", utils::join_words(els, " "));
  }
  if (narg != 2 + ntypes)
    error->all(FLERR, "pair_coeff for pair_style ionmd needs '* *' followed by one element per "
               "atom type: {} atom types but {} elements given{}", ntypes, narg - 2,
               empty_types_note(atoms_per_type()));
  if (strcmp(arg[0], "*") != 0 || strcmp(arg[1], "*") != 0)
    error->all(FLERR, "pair_coeff for pair_style ionmd must start with '* *'");

  const auto &elements = meta.elements;
  const auto count = atoms_per_type();
  type2species.assign(ntypes + 1, -1);
  for (int t = 1; t <= ntypes; ++t) {
    const std::string el = arg[t + 1];
    if (el == "NULL") {
      if (force->pair == this)    // not a sub-style of pair_style hybrid
        error->all(FLERR, "pair_coeff: NULL (atom type {}) leaves that type without a "
                   "potential; it is for pair_style hybrid or hybrid/overlay, with another "
                   "style for that type", t);
      continue;
    }
    auto it = std::find(elements.begin(), elements.end(), el);
    if (it == elements.end()) {
      // element symbols are case-sensitive: 'cl' for Cl, 'LI' for Li
      const auto same_letters =
          std::find_if(elements.begin(), elements.end(), [&](const std::string &e) {
            return utils::lowercase(e) == utils::lowercase(el);
          });
      if (same_letters != elements.end())
        error->all(FLERR, "pair_coeff: element '{}' (atom type {}): element symbols are "
                   "case-sensitive, write '{}'", el, t, *same_letters);
      error->all(FLERR, "pair_coeff: element '{}' (atom type {}) is not known to model {}; "
                 "it knows: {}{}", el, t, model_file, utils::join_words(elements, " "),
                 count[t] == 0 ? fmt::format(" (type {} has no atoms, but still needs one of "
                                             "these: atoms of it created later would be that "
                                             "element)", t)
                               : std::string());
    }
    type2species[t] = (int) (it - elements.begin());
    if (comm->me == 0)
      utils::logmesg(lmp, "pair_style ionmd: atom type {} -> {} (model species {})\n", t, el,
                     type2species[t]);
  }
  for (int i = 1; i <= ntypes; ++i)
    for (int j = i; j <= ntypes; ++j)
      setflag[i][j] = (type2species[i] >= 0 && type2species[j] >= 0) ? 1 : 0;
}

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
  if (low && memory_mode == MEMORY_AUTO && !told_auto_low && comm->me == 0) {
    const std::string why = fast_path_fits(nedges)
        ? fmt::format("{} edges > {:.0f} on this rank", g.nedges(),
                      meta.memory_auto_edges)
        : fmt::format("{} edges would take ~{:.2f} GiB at {:.1f} KiB per edge (measured) "
                      "without recomputation, more than {:.0f} % of the {:.2f} GiB available",
                      g.nedges(), nedges * fast_bytes_per_edge / GIB,
                      fast_bytes_per_edge / 1024.0, 100.0 * AUTO_FAST_SHARE,
                      memory_budget / GIB);
    utils::logmesg(lmp, "pair_style ionmd: memory auto: {}: the stages are recomputed in the "
                   "backward pass, {}\n", why,
                   edge_chunk > 0 ? fmt::format("in chunks of {} edges", edge_chunk)
                                  : std::string("whole"));
    told_auto_low = true;
  }
  if (mode == IonmdGraphBuilder::HALO)
    model->compute_staged(g, *this, low, atom_energy, r);
  else
    model->compute_staged(g, local_graph, low, atom_energy, r);
}

void PairIonmd::init_style()
{
  // in 2-d each atom would meet its own periodic z images (a 1 A thick box: pe -118 eV,
  // 68,728 bar for 40 atoms of LiCl) and the model was trained on 3-d structures
  if (domain->dimension != 3)
    error->all(FLERR, "pair_style ionmd is a 3-d potential; use dimension 3 (the input has "
               "'dimension {}')", domain->dimension);
  if (atom->tag_enable == 0)
    error->all(FLERR, "pair_style ionmd requires atom IDs, but 'atom_modify id no' turned them "
               "off: remove that atom_modify line");
  skips_checked = false;
  warned_close_pair = false;    // a closer pair made between runs is named at the next setup
  const auto mode = graph_mode();
  const bool ghosts = mode == IonmdGraphBuilder::GHOSTS;
  if (mode != IonmdGraphBuilder::OWNERS && force->newton_pair == 0)
    error->all(FLERR, "pair_style ionmd {} requires 'newton on' (forces on ghost atoms are "
               "summed back to their owners)",
               comm->nprocs > 1 ? "on several MPI ranks"
                                : "with a graph of ghost atoms ('ghost halo|redundant', "
                                  "'graph ghosts')");
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
  if (ghosts) {
    // exact local energies need every atom within num_layers * cutoff
    const double shell = meta.num_layers * cutoff + neighbor->skin;
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
  // an empty subdomain contributes nothing, but in halo mode it still joins the exchanges
  if (graph.nlocal == 0 && !halo) return;
  check_graph_memory(mode);

  t0 = std::chrono::steady_clock::now();
  try {
    evaluate(graph, mode, eflag_atom != 0, result);
  } catch (IONMD::IonmdError &e) {
    error->one(FLERR, "pair_style ionmd at step {}: {}", update->ntimestep, e.what());
  }
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

void PairIonmd::accumulate()
{
  double **f = atom->f;
  const auto &node_atom = builder->node_atom();
  if (eflag_global) eng_vdwl += result.energy;
  if (eflag_atom)
    for (int k = 0; k < graph.nlocal; ++k) eatom[node_atom[k]] += result.atom_energy[k];

  const int64_t ne = graph.nedges();
  for (int64_t e = 0; e < ne; ++e) {
    const double *g = &result.edge_grad[3 * e];
    const double *r = &graph.edge_vec[3 * e];
    const int a = node_atom[graph.edge_i[e]], b = node_atom[graph.edge_j[e]];
    f[a][0] += g[0];
    f[a][1] += g[1];
    f[a][2] += g[2];
    f[b][0] -= g[0];
    f[b][1] -= g[1];
    f[b][2] -= g[2];
    if (vflag_either) {
      // LAMMPS order xx, yy, zz, xy, xz, yz
      const double w[6] = {-r[0] * g[0], -r[1] * g[1], -r[2] * g[2],
                           -r[0] * g[1], -r[0] * g[2], -r[1] * g[2]};
      if (vflag_global)
        for (int k = 0; k < 6; ++k) virial[k] += w[k];
      if (vflag_atom)
        for (int k = 0; k < 6; ++k) {
          vatom[a][k] += 0.5 * w[k];
          vatom[b][k] += 0.5 * w[k];
        }
    }
  }
}

/* ---------------------------------------------------------------- memory guard
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
   memory this rank already keeps; GPU: free + torch's cached memory, shared by its ranks). */


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
  if (host < 0.0) return;    // no /proc/meminfo: nothing to compare against
  // freed memory this rank keeps for reuse (ionmd_host_memory.cpp) is its own, and no
  // longer in MemAvailable
  const double kept = std::max(0.0, IONMD::host_rss_bytes() - rss_after_load);
  memory_budget = host / device_sharers + kept;
  budget_source = fmt::format("{} {:.1f} GiB / {} rank(s) on this node{}", what, host / GIB,
                              device_sharers,
                              kept > 0.01 * GIB ? fmt::format(" + {:.2f} GiB this rank holds", kept / GIB)
                                                : "");
}

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
    fix = "use more MPI ranks or GPUs (fewer atoms each), a smaller cell, or a float32 export";
  }
  return fix + "; 'max_memory GiB' (or IONMD_MAX_MEMORY_GB) sets the limit per rank, "
               "'max_memory off' removes this check";
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
  if (worst.ratio > INIT_MARGIN)
    error->all(FLERR, "pair_style ionmd: the graph does not fit in memory: {}; {}", what,
               memory_fix(mode));
  if (comm->me == 0) utils::logmesg(lmp, "pair_style ionmd memory check: {}\n", what);
}

void PairIonmd::check_graph_memory(IonmdGraphBuilder::Mode mode)
{
  if (memory_budget <= 0.0) return;
  const double edges = (double) graph.nedges();
  measure_fast_path(mode, edges);
  if (needs_probe(edges)) probe_bytes_per_edge(mode, edges);
  const double need = edges * bytes_per_edge;
  if (bytes_per_edge <= 0.0 || need <= memory_budget) return;
  error->one(FLERR, "pair_style ionmd at step {}: the graph does not fit in memory: rank {} "
             "holds {} local + {} ghost atoms ({}) and {} edges: ~{:.2f} GiB at {:.1f} KiB per "
             "edge (measured on this model), {:.2f} GiB available ({}); {}",
             update->ntimestep, comm->me, graph.nlocal, graph.nnodes() - graph.nlocal,
             mode_words(mode, comm->cutghostuser), graph.nedges(), need / GIB,
             bytes_per_edge / 1024.0, memory_budget / GIB, budget_source, memory_fix(mode));
}

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
