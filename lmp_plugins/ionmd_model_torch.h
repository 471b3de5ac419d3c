/* -*- c++ -*- ----------------------------------------------------------
   ionmd: pieces shared by the torch runtimes (TorchScript, AOTInductor).
   Internal to the model runtimes: the pair style never includes this header.
------------------------------------------------------------------------- */

#ifndef IONMD_MODEL_TORCH_H
#define IONMD_MODEL_TORCH_H

#include "ionmd_model.h"

#include <torch/torch.h>
#include <exception>

namespace IONMD {

// "auto" | "cpu" | "cuda" | "cuda:N" -> a device; "auto"/"cuda" take the GPU of the
// node-local rank modulo the visible GPUs.
torch::Device pick_device(const std::string &request, int local_rank);

std::string shape_str(const torch::Tensor &t);

// Peak bytes allocated by torch's CUDA caching allocator on `device` (MiB); -1 on the
// CPU or when the plugin was built against a CPU-only torch.
double cuda_peak_allocated_mib(torch::Device device);
// Bytes in tensors now; bytes still to be had (free on the device + cached, unused blocks);
// restart of the peak. -1 / no-op on the CPU or with a CPU-only torch.
double cuda_allocated_bytes(torch::Device device);
double cuda_available_bytes(torch::Device device);
void cuda_reset_peak(torch::Device device);

// The graph as tensors on `device`: edge_vec [E,3] in `dtype`, edge_index [2,E],
// species [N]. edge_vec never aliases the caller's buffer (it may get a gradient).
struct GraphTensors {
  torch::Tensor edge_vec, edge_index, species;
};
GraphTensors graph_tensors(const IonmdGraph &g, torch::Device device, torch::Dtype dtype);

// Copy [nlocal] per-atom energies (any dtype/device) into res.atom_energy.
void store_atom_energy(const torch::Tensor &atom_e, int nlocal, IonmdResult &res);

// Copy the first nedges rows of an [E',3] gradient into res.edge_grad.
void store_edge_grad(const torch::Tensor &grad, int64_t nedges, IonmdResult &res);

/* The staged evaluation (docs/model-contract.md, "Per-layer stages") shared by the
   runtimes: the stage loop with its halo exchanges, the float64 energy sum and the edge
   chunks; a runtime supplies how one stage runs forward and backward. */
class StagedTorchModel : public IonmdModel {
 public:
  void compute_staged(const IonmdGraph &g, HaloExchange &halo, bool recompute,
                      bool want_atom_energy, IonmdResult &res) final;
  void set_edge_chunk(int64_t max_edges) final { edge_chunk = max_edges; }
  const char *metadata_text() const final { return meta_text.c_str(); }
  const char *device_name() const final { return device_str.c_str(); }

 protected:
  explicit StagedTorchModel(torch::Device device) : device(device), device_str(device.str()) {}

  // the file's metadata text, parsed into meta (this side's string ABI)
  void set_metadata(const std::string &text, const std::string &path)
  {
    meta = parse_metadata(text, path);
    meta_text = text;
  }

  // Edge chunks of a recomputed stage: local receivers [a, b) with their edges. The stage
  // runs on the sub-graph of the nodes the chunk touches, renumbered so that [a, b) come
  // first (its "local" nodes) and the other senders of its edges follow, as the staged
  // contract allows for any receiver set (a stage reads a sender's row of h and its species
  // only). Every array of a chunk is then of the chunk's size, not the rank's: time and
  // memory per chunk stay flat however large the rank's graph.
  struct Chunk {
    int64_t a, b;
    torch::Tensor nodes;         // chunk node index -> rank node index
    torch::Tensor edges;         // the chunk's edge ids (rank numbering)
    torch::Tensor edge_index;    // [2, edges] in the chunk's numbering
  };

  // One staged call: the graph, and per stage k = 1..L its input features xin[k] (all
  // nodes) and energies eout[k] (local nodes); hout[k], evec[k]: the outputs and edge
  // leaves a runtime that keeps autograd graphs holds for the backward pass.
  struct StagedCall {
    StagedCall(const IonmdGraph &g, GraphTensors t, int L, bool recompute) :
        g(g), t(std::move(t)), recompute(recompute), xin(L + 1), eout(L + 1), hout(L + 1),
        evec(L + 1) {}
    const IonmdGraph &g;
    GraphTensors t;
    bool recompute;
    bool last_in_backward = false;    // stage L runs only in the backward pass
    std::vector<Chunk> chunks;   // empty: every stage runs on the whole graph
    std::vector<torch::Tensor> xin, eout, hout, evec;
    torch::Tensor atom_e;        // float64 sum of the stages' local energies
    // this rank's stage failed: it joins the call's remaining exchanges with zero rows and
    // the failure is rethrown at the call's end (ionmd_model_staged.cpp)
    std::exception_ptr failure;
  };

  // h_0 of every node (no gradient)
  virtual torch::Tensor stage_embed(const StagedCall &call) = 0;
  // Stage k on call.xin[k]: h_k of the local nodes; stores the local energies in call.eout[k]
  virtual torch::Tensor stage_forward(int k, StagedCall &call) = 0;
  // Backward of stage k given g_h = dE/dh_k of the local nodes (undefined for k = L): adds
  // dE/d edge_vec into edge_grad, returns dE/dh_{k-1} of all nodes (may be undefined for k = 1).
  // For k = L with call.last_in_backward it also stores the local energies in call.eout[L].
  virtual torch::Tensor stage_backward(int k, StagedCall &call, const torch::Tensor &g_h,
                                       torch::Tensor &edge_grad) = 0;
  // Whether stage_backward(L) can give the last stage's energies, so that its forward (whose
  // only other output, h_L, nobody reads) is skipped: true where the backward recomputes.
  virtual bool last_stage_energy_in_backward(const StagedCall &call) const = 0;

  // Receivers split so that each chunk has about max_edges edges (none when one suffices).
  std::vector<Chunk> make_chunks(const IonmdGraph &g, int64_t max_edges) const;
  static void check_rows(const torch::Tensor &x, int64_t rows, int width, const char *what);
  // Copy a chunk's rows into rows [a, a + src.size(0)) of dst, allocating dst ([rows, ...]
  // like src) at the first chunk: chunk outputs are assembled without a list and a cat.
  static void put_rows(torch::Tensor &dst, int64_t rows, int64_t a, const torch::Tensor &src);

  torch::Device device;
  std::string device_str;
  ModelMetadata meta;
  std::string meta_text;
  torch::Dtype dtype = torch::kFloat32;
  int64_t edge_chunk = 0;    // recomputed stages run in chunks of about this many edges

 private:
  void stages_forward(StagedCall &call, HaloExchange &halo);
  void add_energies(int k, StagedCall &call) const;
  torch::Tensor stages_backward(StagedCall &call, HaloExchange &halo);
};

// whether a load error is about operators of a kernel library (ionmd_kernel_libraries.cpp)
bool needs_kernel_libraries(const std::string &what);
// dlopen the libraries in IONMD_KERNEL_LIBRARIES; false if already done or none are set
bool load_kernel_libraries();
// `what` plus how to get cuEquivariance's operators when it is about them
std::string with_kernel_hint(const std::string &what);

// Call inside a catch block: rethrows the exception in flight as an IonmdError,
// "`what_failed`: <reason>" (IonmdErrors pass unchanged). The TorchScript interpreter
// rethrows an op's failure (an allocation beyond the memory left among them) as a plain
// std::runtime_error carrying the script's traceback: only its last line, the op's own
// error, is kept, so the pair style can say what happened and what to do.
[[noreturn]] void rethrow_model_failure(const std::string &what_failed);

std::unique_ptr<IonmdModel> load_torchscript_model(const std::string &path,
                                                  const std::string &device, int local_rank);
std::unique_ptr<IonmdModel> load_aoti_model(const std::string &path, const std::string &device,
                                           int local_rank);

}    // namespace IONMD

#endif
