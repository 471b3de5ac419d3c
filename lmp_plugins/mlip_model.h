/* -*- c++ -*- ----------------------------------------------------------
   ionmd: torch-free interface between pair_style mlip and a model runtime.

   The pair style only sees this header: TorchScript (and later AOTInductor)
   live behind MlipModel in their own translation units, so the pair-style
   code never includes torch headers and one pair style serves every format.
------------------------------------------------------------------------- */

#ifndef IONMD_MLIP_MODEL_H
#define IONMD_MLIP_MODEL_H

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace IONMD {

// The model-file format versions this plugin can read (see pypkg/ionmd/export/contract.py).
constexpr int MIN_FORMAT_VERSION = 1;
constexpr int MAX_FORMAT_VERSION = 1;

// Any failure inside a model runtime; the pair style turns it into error->one/all.
class MlipError : public std::runtime_error {
 public:
  explicit MlipError(const std::string &msg) : std::runtime_error(msg) {}
};

struct ModelMetadata {
  int format_version = 0;
  std::string family;
  double cutoff = 0.0;
  int num_layers = 0;
  std::vector<std::string> elements;    // model species index -> chemical symbol
  std::string dtype;                    // "float32" or "float64"
  std::map<std::string, std::string> raw;    // every key=value line, for logging
};

// One graph in the contract's convention: edge e goes from sender j = edge_j[e] to
// receiver i = edge_i[e], with edge_vec[3e..3e+2] = x_j - x_i (float64, Angstrom).
// Nodes 0..nlocal-1 are the atoms whose energies count.
struct MlipGraph {
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

struct MlipResult {
  double energy = 0.0;                  // sum of the energies of the first nlocal nodes
  std::vector<double> atom_energy;      // [nlocal], filled when asked for
  std::vector<double> edge_grad;        // [3 * nedges] = dE / d edge_vec
};

class MlipModel {
 public:
  virtual ~MlipModel() = default;
  const ModelMetadata &metadata() const { return meta; }
  // Energy of the first graph.nlocal nodes and its gradient w.r.t. every edge vector.
  virtual void compute(const MlipGraph &graph, bool want_atom_energy, MlipResult &result) = 0;
  // Human-readable description of where the model runs ("cpu", "cuda:1", ...).
  virtual std::string device_name() const = 0;
  // Peak memory the model runtime took on its GPU since load (MiB); < 0 on the CPU.
  virtual double device_peak_mib() const { return -1.0; }

  // Load any supported model file; device is "auto", "cpu", "cuda" or "cuda:N";
  // local_rank picks the GPU for "auto"/"cuda" (node-local rank modulo the GPU count).
  static std::unique_ptr<MlipModel> load(const std::string &path, const std::string &device,
                                         int local_rank);

 protected:
  ModelMetadata meta;
};

// Intra-op threads of the model runtime (per MPI rank).
void set_intraop_threads(int n);
int intraop_threads();

// Parse the key=value metadata text; throws MlipError naming what is missing or wrong.
ModelMetadata parse_metadata(const std::string &text, const std::string &path);

}    // namespace IONMD

#endif
