/* ionmd: AOTInductor (.pt2) runtime behind the IonmdModel interface.

   A package has no autograd at run time: `ionmd export --format aoti` compiles a
   program that returns per-node energies and dE_local/d(edge_vec) in one call
   (pypkg/ionmd/export/aoti.py). The program was exported with dynamic node and
   edge counts of at least 2 (torch.export specialises sizes 0 and 1), so smaller
   graphs are padded here with two dummy ghost nodes joined by a pair of edges:
   ghosts beyond nlocal are masked out of the energy, and messages along the dummy
   edges only reach dummy nodes, so the padding changes nothing for real atoms.

   A staged package (docs/model-contract.md, "Stages in an AOTInductor package") also holds
   the programs halo_embed, stage_k and stage_k_vjp (k = 1..L): the forward of each stage
   keeps nothing, and its vector-Jacobian program recomputes the stage, so the backward
   always recomputes; with `recompute` (memory low) each stage also runs in edge chunks. */

#include "ionmd_model_torch.h"

#include <torch/csrc/inductor/aoti_package/model_package_loader.h>

namespace IONMD {

namespace {

const char *AOTI_METADATA_KEY = "ionmd_metadata";
constexpr int64_t MIN_DIM = 2;

class AotiModel : public StagedTorchModel {
 public:
  AotiModel(const std::string &path, const std::string &device_request, int local_rank) :
      StagedTorchModel(pick_device(device_request, local_rank))
  {
    try {
      // Read the package's own metadata first: a CPU package cannot run on a GPU.
      loader = std::make_unique<torch::inductor::AOTIModelPackageLoader>(
          path, "model", false, 1, device.is_cuda() ? device.index() : (c10::DeviceIndex) -1);
    } catch (const std::exception &e) {
      throw IonmdError("cannot load AOTInductor package " + path + ": " +
                      with_kernel_hint(first_line(e.what())) +
                      " (a package compiled for a GPU needs a CUDA build of torch; "
                      "re-export on this machine with `ionmd export ... --format aoti`)");
    }
    auto pkg_meta = loader->get_metadata();
    auto it = pkg_meta.find(AOTI_METADATA_KEY);
    if (it == pkg_meta.end())
      throw IonmdError("AOTInductor package " + path + " carries no ionmd metadata: it was "
                      "not written by `ionmd export`; export the model with ionmd first");
    set_metadata(it->second, path);
    dtype = meta.dtype == "float64" ? torch::kFloat64 : torch::kFloat32;
    const std::string pkg_device = pkg_meta.count("AOTI_DEVICE_KEY") ? pkg_meta["AOTI_DEVICE_KEY"] : "";
    if (!pkg_device.empty() && pkg_device != (device.is_cuda() ? "cuda" : "cpu"))
      throw IonmdError("AOTInductor package " + path + " was compiled for '" + pkg_device +
                      "' but pair_style ionmd runs on " + device.str() + ": choose the matching "
                      "device keyword or re-export with `ionmd export ... --format aoti "
                      "--device " + (device.is_cuda() ? "cuda" : "cpu") + "`");
    if (meta.halo_stages > 0) load_stage_programs(path);
  }

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
    } catch (...) {
      rethrow_model_failure("model evaluation failed");
    }
  }

 protected:
  torch::Tensor stage_embed(const StagedCall &call) override
  {
    torch::Tensor species = call.t.species;
    const int64_t n = species.size(0);
    if (n < MIN_DIM) species = torch::cat({species, torch::zeros({MIN_DIM}, species.options())});
    return run_checked(*embed, "halo_embed", {species}, 1)[0].slice(0, 0, n);
  }

  torch::Tensor stage_forward(int k, StagedCall &call) override
  {
    torch::Tensor h;
    call.eout[k] = torch::Tensor();
    for (size_t c = 0; c < stage_parts(call); ++c) {
      const StageGraph sg = stage_graph(k, call, c);
      auto out = run_checked(*forward_programs[k - 1], "stage_" + std::to_string(k), sg.inputs, 2);
      put_rows(h, call.g.nlocal, sg.a, out[0].slice(0, 0, sg.nlocal));
      put_rows(call.eout[k], call.g.nlocal, sg.a, out[1].slice(0, 0, sg.nlocal));
    }
    out_width[k] = h.size(1);
    return h;
  }

  torch::Tensor stage_backward(int k, StagedCall &call, const torch::Tensor &g_h,
                               torch::Tensor &edge_grad) override
  {
    torch::Tensor gx = torch::zeros_like(call.xin[k]), energies;
    auto nl = torch::TensorOptions().dtype(torch::kInt64).device(device);
    for (size_t c = 0; c < stage_parts(call); ++c) {
      const StageGraph sg = stage_graph(k, call, c);
      const int64_t rows = sg.inputs[0].size(0);
      torch::Tensor g = torch::zeros({rows, out_width[k]}, sg.inputs[0].options());
      if (k < meta.halo_stages) g.slice(0, 0, sg.nlocal).copy_(g_h.slice(0, sg.a, sg.a + sg.nlocal));
      std::vector<torch::Tensor> in = sg.inputs;
      in.push_back(torch::full({1}, sg.nlocal, nl));
      in.push_back(g);
      auto out = run_checked(*vjp_programs[k - 1], "stage_" + std::to_string(k) + "_vjp", in,
                             meta.stage_vjp_energies ? 3 : 2);
      if (k == meta.halo_stages && call.last_in_backward)
        put_rows(energies, call.g.nlocal, sg.a, out[2].slice(0, 0, sg.nlocal));
      torch::Tensor gxs = out[0].slice(0, 0, sg.nnodes), gev = out[1].slice(0, 0, sg.nedges);
      if (sg.nodes.defined()) {
        gx.index_add_(0, sg.nodes, gxs);
        edge_grad.index_add_(0, sg.edges, gev);
      } else {
        gx.add_(gxs);
        edge_grad.add_(gev);
      }
    }
    call.eout[k] = energies;
    return gx;
  }

  // The vector-Jacobian programs recompute their stage; with stage_vjp_energies they also
  // return its energies, and the last stage's forward program is not needed.
  bool last_stage_energy_in_backward(const StagedCall &) const override
  {
    return meta.stage_vjp_energies;
  }

 private:
  // Stage inputs (h, edge_vec, edge_index, species) of the whole graph or of one chunk,
  // padded to the programs' minimum sizes; nodes/edges map a chunk's rows to the graph's.
  struct StageGraph {
    std::vector<torch::Tensor> inputs;
    int64_t a = 0, nlocal = 0, nnodes = 0, nedges = 0;
    torch::Tensor nodes, edges;
  };

  // The whole graph, or one chunk at a time: only one chunk's inputs exist at once.
  static size_t stage_parts(const StagedCall &call)
  {
    return call.chunks.empty() ? 1 : call.chunks.size();
  }

  StageGraph stage_graph(int k, const StagedCall &call, size_t part) const
  {
    const GraphTensors &t = call.t;
    if (call.chunks.empty()) return padded(call.xin[k], t, 0, call.g.nlocal);
    const Chunk &c = call.chunks[part];
    GraphTensors sub{t.edge_vec.index_select(0, c.edges), c.edge_index,
                     t.species.index_select(0, c.nodes)};
    StageGraph sg = padded(call.xin[k].index_select(0, c.nodes), sub, c.a, c.b - c.a);
    sg.nodes = c.nodes;
    sg.edges = c.edges;
    return sg;
  }

  StageGraph padded(torch::Tensor x, GraphTensors g, int64_t a, int64_t nlocal) const
  {
    StageGraph sg;
    sg.a = a;
    sg.nlocal = nlocal;
    sg.nnodes = g.species.size(0);
    sg.nedges = g.edge_vec.size(0);
    if (sg.nnodes < MIN_DIM || sg.nedges < MIN_DIM) {
      pad_with_dummy_pair(g);
      x = torch::cat({x, torch::zeros({2, x.size(1)}, x.options())});
    }
    sg.inputs = {x, g.edge_vec, g.edge_index, g.species};
    return sg;
  }

  void load_stage_programs(const std::string &path)
  {
    const int dev = device.is_cuda() ? device.index() : -1;
    auto load = [&](const std::string &name) {
      try {
        return std::make_unique<torch::inductor::AOTIModelPackageLoader>(path, name, false, 1,
                                                                         (c10::DeviceIndex) dev);
      } catch (const std::exception &e) {
        throw IonmdError("AOTInductor package " + path + " declares halo_stages=" +
                         std::to_string(meta.halo_stages) + " but its program '" + name +
                         "' cannot be loaded (" + with_kernel_hint(first_line(e.what())) +
                         "); re-export the "
                         "model with `ionmd export`");
      }
    };
    embed = load("halo_embed");
    for (int k = 1; k <= meta.halo_stages; ++k) {
      forward_programs.push_back(load("stage_" + std::to_string(k)));
      vjp_programs.push_back(load("stage_" + std::to_string(k) + "_vjp"));
    }
    out_width.assign(meta.halo_stages + 1, 0);
    out_width[meta.halo_stages] = meta.stage_last_width;    // 0 unless stage_vjp_energies
  }

  std::vector<torch::Tensor> run_checked(torch::inductor::AOTIModelPackageLoader &program,
                                         const std::string &name,
                                         const std::vector<torch::Tensor> &inputs,
                                         size_t outputs) const
  {
    std::vector<torch::Tensor> out = program.run(inputs);
    if (out.size() != outputs)
      throw IonmdError("AOTInductor program '" + name + "' returned " +
                       std::to_string(out.size()) + " outputs, expected " +
                       std::to_string(outputs) + "; the file breaks the ionmd contract");
    return out;
  }

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

  std::unique_ptr<torch::inductor::AOTIModelPackageLoader> loader;    // the whole model
  std::unique_ptr<torch::inductor::AOTIModelPackageLoader> embed;     // staged packages
  std::vector<std::unique_ptr<torch::inductor::AOTIModelPackageLoader>> forward_programs,
      vjp_programs;
  std::vector<int64_t> out_width;    // width of each stage's output h_k, seen in its forward
};

}    // namespace

std::unique_ptr<IonmdModel> load_aoti_model(const std::string &path, const std::string &device,
                                           int local_rank)
{
  return std::make_unique<AotiModel>(path, device, local_rank);
}

}    // namespace IONMD
