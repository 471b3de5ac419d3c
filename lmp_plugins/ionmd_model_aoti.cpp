/* ionmd: AOTInductor (.pt2) runtime behind the IonmdModel interface.

   A package has no autograd at run time: `ionmd export --format aoti` compiles a
   program that returns per-node energies and dE_local/d(edge_vec) in one call
   (pypkg/ionmd/export/aoti.py). The program was exported with dynamic node and
   edge counts of at least 2 (torch.export specialises sizes 0 and 1), so smaller
   graphs are padded here with two dummy ghost nodes joined by a pair of edges:
   ghosts beyond nlocal are masked out of the energy, and messages along the dummy
   edges only reach dummy nodes, so the padding changes nothing for real atoms. */

#include "ionmd_model_torch.h"

#include <torch/csrc/inductor/aoti_package/model_package_loader.h>

namespace IONMD {

namespace {

const char *AOTI_METADATA_KEY = "ionmd_metadata";
constexpr int64_t MIN_DIM = 2;

class AotiModel : public IonmdModel {
 public:
  AotiModel(const std::string &path, const std::string &device_request, int local_rank) :
      device(pick_device(device_request, local_rank))
  {
    try {
      // Read the package's own metadata first: a CPU package cannot run on a GPU.
      loader = std::make_unique<torch::inductor::AOTIModelPackageLoader>(
          path, "model", false, 1, device.is_cuda() ? device.index() : (c10::DeviceIndex) -1);
    } catch (const std::exception &e) {
      throw IonmdError("cannot load AOTInductor package " + path + ": " + first_line(e.what()) +
                      " (a package compiled for a GPU needs a CUDA build of torch; "
                      "re-export on this machine with `ionmd export ... --format aoti`)");
    }
    auto pkg_meta = loader->get_metadata();
    auto it = pkg_meta.find(AOTI_METADATA_KEY);
    if (it == pkg_meta.end())
      throw IonmdError("AOTInductor package " + path + " carries no ionmd metadata: it was "
                      "not written by `ionmd export`; export the model with ionmd first");
    meta = parse_metadata(it->second, path);
    dtype = meta.dtype == "float64" ? torch::kFloat64 : torch::kFloat32;
    const std::string pkg_device = pkg_meta.count("AOTI_DEVICE_KEY") ? pkg_meta["AOTI_DEVICE_KEY"] : "";
    if (!pkg_device.empty() && pkg_device != (device.is_cuda() ? "cuda" : "cpu"))
      throw IonmdError("AOTInductor package " + path + " was compiled for '" + pkg_device +
                      "' but pair_style ionmd runs on " + device.str() + ": choose the matching "
                      "device keyword or re-export with `ionmd export ... --format aoti "
                      "--device " + (device.is_cuda() ? "cuda" : "cpu") + "`");
  }

  std::string device_name() const override { return device.str(); }
  double device_peak_mib() const override { return cuda_peak_allocated_mib(device); }
  double device_allocated_bytes() const override { return cuda_allocated_bytes(device); }
  double device_available_bytes() const override { return cuda_available_bytes(device); }
  void reset_device_peak() override { cuda_reset_peak(device); }

  void compute(const IonmdGraph &g, bool want_atom_energy, IonmdResult &res) override
  {
    try {
      GraphTensors t = graph_tensors(g, device, dtype);
      if (g.nnodes() < MIN_DIM || g.nedges() < MIN_DIM) pad_with_dummy_pair(t);
      auto nlocal = torch::full({1}, (int64_t) g.nlocal,
                                torch::TensorOptions().dtype(torch::kInt64).device(device));
      std::vector<torch::Tensor> out =
          loader->run({t.edge_vec, t.edge_index, t.species, nlocal});
      if (out.size() != 2 || out[0].dim() != 1 || out[0].size(0) != t.species.size(0) ||
          out[1].sizes() != t.edge_vec.sizes())
        throw IonmdError("AOTInductor package returned " + std::to_string(out.size()) +
                        " outputs of unexpected shapes (expected node energies [N] and edge "
                        "gradients [E,3]); the file breaks the ionmd contract");
      torch::Tensor atom_e = out[0].slice(0, 0, g.nlocal);
      res.energy = atom_e.to(torch::kFloat64).sum().item<double>();
      store_edge_grad(out[1], g.nedges(), res);
      if (want_atom_energy) store_atom_energy(atom_e, g.nlocal, res);
    } catch (const c10::Error &e) {
      throw IonmdError(std::string("model evaluation failed: ") + e.what_without_backtrace());
    }
  }

 private:
  // Two extra ghost nodes (species 0) and the two directed edges between them, at a
  // distance well inside any cutoff so every function of it stays finite.
  void pad_with_dummy_pair(GraphTensors &t) const
  {
    const int64_t n = t.species.size(0);
    const double d = 0.5 * meta.cutoff;
    auto ivec = torch::TensorOptions().dtype(torch::kInt64).device(device);
    auto fvec = torch::TensorOptions().dtype(dtype).device(device);
    t.species = torch::cat({t.species, torch::zeros({2}, ivec)});
    t.edge_index = torch::cat({t.edge_index, torch::tensor({n, n + 1, n + 1, n}, ivec).view({2, 2})}, 1);
    t.edge_vec = torch::cat({t.edge_vec, torch::tensor({d, 0.0, 0.0, -d, 0.0, 0.0}, fvec).view({2, 3})});
  }

  static std::string first_line(const std::string &s) { return s.substr(0, s.find('\n')); }

  torch::Device device;
  torch::Dtype dtype = torch::kFloat32;
  std::unique_ptr<torch::inductor::AOTIModelPackageLoader> loader;
};

}    // namespace

std::unique_ptr<IonmdModel> load_aoti_model(const std::string &path, const std::string &device,
                                           int local_rank)
{
  return std::make_unique<AotiModel>(path, device, local_rank);
}

}    // namespace IONMD
