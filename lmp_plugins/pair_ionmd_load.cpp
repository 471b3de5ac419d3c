/* ionmd: pair_style ionmd loads its model file: on every rank, and the same file on every
   rank; the ranks that share the model's device are counted for the memory budget. */

#include "pair_ionmd.h"

#include "comm.h"
#include "error.h"
#include "utils.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <vector>

#include <sys/stat.h>

using namespace LAMMPS_NS;

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
  // read once per node and file: ranks of a node that open the same file (device and inode,
  // not the path string: a relative path names another file in another working directory)
  struct stat st;
  const bool found = stat(model_file.c_str(), &st) == 0;
  unsigned long long id[2] = {found ? (unsigned long long) st.st_dev : 0ULL,
                              found ? (unsigned long long) st.st_ino : (unsigned long long) comm->me};
  MPI_Comm node, same;
  MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, comm->me, MPI_INFO_NULL, &node);
  const int color = (int) ((std::hash<unsigned long long>{}(id[0]) * 31 +
                            std::hash<unsigned long long>{}(id[1])) & 0x7fffffff);
  MPI_Comm_split(node, found ? color : MPI_UNDEFINED, comm->me, &same);
  unsigned long long mine = 0;
  if (same == MPI_COMM_NULL) {
    mine = file_fingerprint(model_file);    // not found here: its own (failed) reading
  } else {
    // a colour two files share by chance: then every rank of it reads its own
    unsigned long long lo[2], hi[2];
    MPI_Allreduce(id, lo, 2, MPI_UNSIGNED_LONG_LONG, MPI_MIN, same);
    MPI_Allreduce(id, hi, 2, MPI_UNSIGNED_LONG_LONG, MPI_MAX, same);
    const bool one_file = lo[0] == hi[0] && lo[1] == hi[1];
    int reader = 0;
    MPI_Comm_rank(same, &reader);
    if (!one_file || reader == 0) mine = file_fingerprint(model_file);
    if (one_file) MPI_Bcast(&mine, 1, MPI_UNSIGNED_LONG_LONG, 0, same);
    MPI_Comm_free(&same);
  }
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
