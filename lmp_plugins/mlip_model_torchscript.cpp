/* ionmd: TorchScript runtime behind the MlipModel interface.

   Forces come from C++ autograd: the model returns per-atom energies, we sum the
   local ones in float64 and take dE/d(edge_vec). Every c10/JIT exception is turned
   into MlipError here, so the pair style never sees torch types. */

#include "mlip_model_torch.h"

#include <torch/script.h>

namespace IONMD {

namespace {

const char *METADATA_ENTRY = "ionmd/metadata";

class TorchScriptModel : public MlipModel {
 public:
  TorchScriptModel(const std::string &path, const std::string &device_request, int local_rank) :
      device(pick_device(device_request, local_rank))
  {
    // The profiling executor re-specialises the graph for every new input shape, and
    // the number of edges changes every step in MD: use the legacy executor instead
    // (measured here on SevenNet-0: 0.46 s/step vs 0.52 without profiling, 0.60 default).
    torch::jit::getExecutorMode() = false;

    std::unordered_map<std::string, std::string> extra{{METADATA_ENTRY, ""}};
    try {
      module = torch::jit::load(path, device, extra);
    } catch (const c10::Error &e) {
      throw MlipError("cannot read model file " + path +
                      " as TorchScript: " + e.what_without_backtrace());
    }
    if (extra[METADATA_ENTRY].empty())
      throw MlipError("model file " + path + " carries no ionmd metadata: it was not written "
                      "by `ionmd export`; export the model with ionmd first");
    meta = parse_metadata(extra[METADATA_ENTRY], path);
    dtype = meta.dtype == "float64" ? torch::kFloat64 : torch::kFloat32;
    module.eval();
  }

  std::string device_name() const override { return device.str(); }
  double device_peak_mib() const override { return cuda_peak_allocated_mib(device); }

  void compute(const MlipGraph &g, bool want_atom_energy, MlipResult &res) override
  {
    try {
      GraphTensors t = graph_tensors(g, device, dtype);
      t.edge_vec.requires_grad_(true);
      torch::Tensor atom_e =
          module.forward({t.edge_vec, t.edge_index, t.species, (int64_t) g.nlocal}).toTensor();
      if (atom_e.dim() != 1 || atom_e.size(0) != g.nlocal)
        throw MlipError("model returned a tensor of shape " + shape_str(atom_e) +
                        ", expected [" + std::to_string(g.nlocal) +
                        "] per-atom energies (model file breaks the ionmd contract)");
      torch::Tensor energy = atom_e.to(torch::kFloat64).sum();
      torch::Tensor grad;
      if (g.nedges() > 0 && atom_e.requires_grad())
        grad = torch::autograd::grad({energy}, {t.edge_vec}, {}, false, false, true)[0];
      store_edge_grad(grad, g.nedges(), res);
      res.energy = energy.item<double>();
      if (want_atom_energy) store_atom_energy(atom_e, g.nlocal, res);
    } catch (const c10::Error &e) {
      throw MlipError(std::string("model evaluation failed: ") + e.what_without_backtrace());
    }
  }

 private:
  torch::Device device;
  torch::Dtype dtype = torch::kFloat32;
  torch::jit::Module module;
};

}    // namespace

std::unique_ptr<MlipModel> load_torchscript_model(const std::string &path,
                                                  const std::string &device, int local_rank)
{
  return std::make_unique<TorchScriptModel>(path, device, local_rank);
}

}    // namespace IONMD
