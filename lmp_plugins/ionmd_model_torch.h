/* -*- c++ -*- ----------------------------------------------------------
   ionmd: pieces shared by the torch runtimes (TorchScript, AOTInductor).
   Internal to the model runtimes: the pair style never includes this header.
------------------------------------------------------------------------- */

#ifndef IONMD_MODEL_TORCH_H
#define IONMD_MODEL_TORCH_H

#include "ionmd_model.h"

#include <torch/torch.h>

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

std::unique_ptr<IonmdModel> load_torchscript_model(const std::string &path,
                                                  const std::string &device, int local_rank);
std::unique_ptr<IonmdModel> load_aoti_model(const std::string &path, const std::string &device,
                                           int local_rank);

}    // namespace IONMD

#endif
