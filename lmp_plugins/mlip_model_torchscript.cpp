/* ionmd: TorchScript runtime behind the MlipModel interface.

   Forces come from C++ autograd: the model returns per-atom energies, we sum the
   local ones in float64 and take dE/d(edge_vec). Every c10/JIT exception is turned
   into MlipError here, so the pair style never sees torch types. */

#include "mlip_model.h"

#include <torch/script.h>
#include <torch/torch.h>

#include <fstream>

namespace IONMD {

namespace {

const char *METADATA_ENTRY = "ionmd/metadata";

torch::Device pick_device(const std::string &request, int local_rank)
{
  const bool have_cuda = torch::cuda::is_available();
  if (request == "cpu") return torch::Device(torch::kCPU);
  if (request == "auto" && !have_cuda) return torch::Device(torch::kCPU);
  if (!have_cuda)
    throw MlipError("device '" + request + "' requested but this torch build sees no CUDA device");
  const int ngpu = (int) torch::cuda::device_count();
  if (request == "auto" || request == "cuda")
    return torch::Device(torch::kCUDA, (c10::DeviceIndex) (local_rank % ngpu));
  if (request.rfind("cuda:", 0) == 0) {
    int idx = std::stoi(request.substr(5));
    if (idx < 0 || idx >= ngpu)
      throw MlipError("device '" + request + "' does not exist (" + std::to_string(ngpu) +
                      " CUDA devices visible)");
    return torch::Device(torch::kCUDA, (c10::DeviceIndex) idx);
  }
  throw MlipError("unknown device '" + request + "': use auto, cpu, cuda or cuda:N");
}

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

  void compute(const MlipGraph &g, bool want_atom_energy, MlipResult &res) override
  {
    const int64_t ne = g.nedges(), nn = g.nnodes();
    try {
      auto i64 = torch::TensorOptions().dtype(torch::kInt64);
      auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
      // from_blob does not copy; .to() copies when device or dtype differ, and clone()
      // otherwise, so the leaf that gets a gradient never aliases the caller's buffer.
      torch::Tensor edge_vec =
          torch::from_blob((void *) g.edge_vec.data(), {ne, 3}, f64).to(device, dtype, false, true);
      edge_vec.requires_grad_(true);
      torch::Tensor edge_index =
          torch::stack({torch::from_blob((void *) g.edge_i.data(), {ne}, i64),
                        torch::from_blob((void *) g.edge_j.data(), {ne}, i64)})
              .to(device);
      torch::Tensor species = torch::from_blob((void *) g.species.data(), {nn}, i64).to(device);

      torch::Tensor atom_e =
          module.forward({edge_vec, edge_index, species, (int64_t) g.nlocal}).toTensor();
      if (atom_e.dim() != 1 || atom_e.size(0) != g.nlocal)
        throw MlipError("model returned a tensor of shape " + shape_str(atom_e) +
                        ", expected [" + std::to_string(g.nlocal) +
                        "] per-atom energies (model file breaks the ionmd contract)");
      torch::Tensor energy = atom_e.to(torch::kFloat64).sum();

      res.edge_grad.assign(3 * ne, 0.0);
      if (ne > 0 && atom_e.requires_grad()) {
        auto grads = torch::autograd::grad({energy}, {edge_vec}, {}, false, false, true);
        if (grads[0].defined()) {
          auto g64 = grads[0].detach().to(torch::kCPU, torch::kFloat64).contiguous();
          std::memcpy(res.edge_grad.data(), g64.data_ptr<double>(), sizeof(double) * 3 * ne);
        }
      }
      res.energy = energy.item<double>();
      if (want_atom_energy) {
        auto e64 = atom_e.detach().to(torch::kCPU, torch::kFloat64).contiguous();
        res.atom_energy.assign(e64.data_ptr<double>(), e64.data_ptr<double>() + g.nlocal);
      }
    } catch (const c10::Error &e) {
      throw MlipError(std::string("model evaluation failed: ") + e.what_without_backtrace());
    }
  }

 private:
  static std::string shape_str(const torch::Tensor &t)
  {
    std::string s = "[";
    for (int64_t d = 0; d < t.dim(); ++d) s += (d ? "," : "") + std::to_string(t.size(d));
    return s + "]";
  }

  torch::Device device;
  torch::Dtype dtype = torch::kFloat32;
  torch::jit::Module module;
};

}    // namespace

void set_intraop_threads(int n)
{
  torch::set_num_threads(n);
}

int intraop_threads()
{
  return torch::get_num_threads();
}

std::unique_ptr<MlipModel> MlipModel::load(const std::string &path, const std::string &device,
                                           int local_rank)
{
  std::ifstream probe(path, std::ios::binary);
  if (!probe.good())
    throw MlipError("model file " + path + " does not exist or cannot be read; export one with "
                    "`ionmd export sevennet -o FILE`");
  char magic[2] = {0, 0};
  probe.read(magic, 2);
  if (magic[0] != 'P' || magic[1] != 'K')
    throw MlipError("model file " + path + " is not a TorchScript archive (not a zip file): "
                    "export the model with `ionmd export`");
  return std::make_unique<TorchScriptModel>(path, device, local_rank);
}

}    // namespace IONMD
