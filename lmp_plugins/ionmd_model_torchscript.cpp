/* ionmd: TorchScript runtime behind the IonmdModel interface.

   Forces come from C++ autograd: the model returns per-atom energies, we sum the
   local ones in float64 and take dE/d(edge_vec). Every c10/JIT exception is turned
   into IonmdError here, so the pair style never sees torch types. */

#include "ionmd_model_torch.h"

#include <torch/script.h>

namespace IONMD {

namespace {

const char *METADATA_ENTRY = "ionmd/metadata";

class TorchScriptModel : public StagedTorchModel {
 public:
  TorchScriptModel(const std::string &path, const std::string &device_request, int local_rank) :
      StagedTorchModel(pick_device(device_request, local_rank))
  {
    // Run the graph as written, without the executor's optimisation passes: the default
    // profiling executor re-specialises the graph for every new edge count (every MD
    // step), and the legacy executor gave a different answer in 5 of 295 runs (tiny
    // MACE, float64, e3nn export: forces 2e-9 off, the same wrong value every time; 0 of
    // 500 with this setting). The setting is the calling thread's (the one that loads and
    // runs the model). Measured 2026-12-04, 512 atoms, 2 threads, s per 10 steps, legacy /
    // profiling / this: SevenNet-0 float32 20.3 / 19.6 / 19.5 (peak 2129 / 2275 / 2163
    // MiB), fused tiny MACE float64 4.69 / 4.62 / 4.73 (371 / 396 / 323 MiB).
    torch::jit::setGraphExecutorOptimize(false);

    std::unordered_map<std::string, std::string> extra{{METADATA_ENTRY, ""}};
    try {
      module = torch::jit::load(path, device, extra);
    } catch (const c10::Error &e) {
      throw IonmdError("cannot read model file " + path +
                      " as TorchScript: " + with_kernel_hint(e.what_without_backtrace()));
    } catch (const std::exception &e) {    // e.g. an unknown operator (torch::jit::ErrorReport)
      std::string what = e.what();            // its first line of text, not the source excerpt
      what.erase(0, std::min(what.size(), what.find_first_not_of(" \n")));
      throw IonmdError("cannot read model file " + path + " as TorchScript: " +
                      with_kernel_hint(what.substr(0, what.find('\n'))));
    }
    if (extra[METADATA_ENTRY].empty())
      throw IonmdError("model file " + path + " carries no ionmd metadata: it was not written "
                      "by `ionmd export`; export the model with ionmd first");
    set_metadata(extra[METADATA_ENTRY], path);
    dtype = meta.dtype == "float64" ? torch::kFloat64 : torch::kFloat32;
    module.eval();
    if (meta.halo_stages > 0 &&
        (!module.find_method("halo_embed") || !module.find_method("halo_stage")))
      throw IonmdError("model file " + path + " declares halo_stages=" +
                      std::to_string(meta.halo_stages) + " but has no halo_embed/halo_stage "
                      "methods; re-export the model with `ionmd export`");
  }

  double device_peak_mib() const override { return cuda_peak_allocated_mib(device); }
  double device_allocated_bytes() const override { return cuda_allocated_bytes(device); }
  double device_available_bytes() const override { return cuda_available_bytes(device); }
  void reset_device_peak() override { cuda_reset_peak(device); }

  void compute(const IonmdGraph &g, bool want_atom_energy, IonmdResult &res) override
  {
    try {
      GraphTensors t = graph_tensors(g, device, dtype);
      t.edge_vec.requires_grad_(true);
      torch::Tensor atom_e =
          module.forward({t.edge_vec, t.edge_index, t.species, (int64_t) g.nlocal}).toTensor();
      if (atom_e.dim() != 1 || atom_e.size(0) != g.nlocal)
        throw IonmdError("model returned a tensor of shape " + shape_str(atom_e) +
                        ", expected [" + std::to_string(g.nlocal) +
                        "] per-atom energies (model file breaks the ionmd contract)");
      torch::Tensor energy = atom_e.to(torch::kFloat64).sum();
      torch::Tensor grad;
      if (g.nedges() > 0 && atom_e.requires_grad())
        grad = torch::autograd::grad({energy}, {t.edge_vec}, {}, false, false, true)[0];
      store_edge_grad(grad, g.nedges(), res);
      res.energy = energy.item<double>();
      if (want_atom_energy) store_atom_energy(atom_e, g.nlocal, res);
    } catch (...) {
      rethrow_model_failure("model evaluation failed");
    }
  }

 protected:
  /* Staged hooks (StagedTorchModel). Without `recompute`, every stage keeps its autograd
     graph from the forward pass; with it, the forward keeps no graph, only each stage's
     input features, and the backward re-runs one stage (or one chunk of it) at a time with
     gradients: the peak then holds one stage's intermediates instead of all of them, for
     one more forward pass. */
  torch::Tensor stage_embed(const StagedCall &call) override
  {
    return module.get_method("halo_embed")({call.t.species}).toTensor();
  }

  torch::Tensor stage_forward(int k, StagedCall &call) override
  {
    run_stage(k, call, !call.recompute);
    return call.hout[k];
  }

  torch::Tensor stage_backward(int k, StagedCall &call, const torch::Tensor &g_h,
                               torch::Tensor &edge_grad) override
  {
    if (call.recompute && !call.chunks.empty()) return backward_chunks(k, call, g_h, edge_grad);
    const int L = meta.halo_stages;
    if (call.recompute) run_stage(k, call, true);
    std::vector<torch::Tensor> outs, gouts, ins{call.evec[k]};
    if (call.eout[k].requires_grad()) {
      outs.push_back(call.eout[k]);
      gouts.push_back(torch::ones_like(call.eout[k]));
    }
    if (k < L && call.hout[k].requires_grad()) {
      outs.push_back(call.hout[k]);
      gouts.push_back(g_h);
    }
    if (k > 1) ins.push_back(call.xin[k]);
    torch::Tensor gx;
    if (!outs.empty()) {
      auto grads = torch::autograd::grad(outs, ins, gouts, false, false, true);
      if (grads[0].defined()) edge_grad.add_(grads[0]);
      if (k > 1 && grads[1].defined()) gx = grads[1];
    }
    // this stage's graph (and, recomputing, its outputs) are no longer needed
    call.eout[k] = k == L && call.last_in_backward ? call.eout[k].detach() : torch::Tensor();
    call.hout[k] = call.evec[k] = torch::Tensor();
    return gx;
  }

  // Recomputing, the backward re-runs the last stage anyway: its forward can be skipped.
  bool last_stage_energy_in_backward(const StagedCall &call) const override
  {
    return call.recompute;
  }

 private:
  // Stage k on one chunk: `xs`, `evs` are the chunk's rows of the node features and edge
  // vectors (x.index_select(0, c.nodes), edge_vec.index_select(0, c.edges)).
  std::pair<torch::Tensor, torch::Tensor> run_chunk(int k, const GraphTensors &t, const Chunk &c,
                                                    const torch::Tensor &xs,
                                                    const torch::Tensor &evs)
  {
    auto out = module.get_method("halo_stage")(
        {(int64_t) k, xs, evs, c.edge_index, t.species.index_select(0, c.nodes),
         c.b - c.a}).toTuple();
    return {out->elements().at(0).toTensor(), out->elements().at(1).toTensor()};
  }

  // Stage k on the call's inputs; with gradients, its inputs become fresh leaves.
  void run_stage(int k, StagedCall &call, bool grad)
  {
    const GraphTensors &t = call.t;
    std::unique_ptr<torch::NoGradGuard> no_grad;
    if (!grad) no_grad = std::make_unique<torch::NoGradGuard>();
    if (!grad && !call.chunks.empty()) {      // recomputing: one chunk's work at a time
      const int64_t nloc = call.g.nlocal;
      call.hout[k] = call.eout[k] = torch::Tensor();
      for (const auto &c : call.chunks) {
        auto [h, e] = run_chunk(k, t, c, call.xin[k].index_select(0, c.nodes),
                                t.edge_vec.index_select(0, c.edges));
        put_rows(call.hout[k], nloc, c.a, h);
        put_rows(call.eout[k], nloc, c.a, e);
      }
      return;
    }
    if (grad) {
      call.xin[k] = call.xin[k].detach().requires_grad_(k > 1);
      call.evec[k] = t.edge_vec.detach().requires_grad_(true);
    } else {
      call.evec[k] = t.edge_vec;
    }
    auto out = module.get_method("halo_stage")(
        {(int64_t) k, call.xin[k], call.evec[k], t.edge_index, t.species,
         (int64_t) call.g.nlocal});
    auto tup = out.toTuple();
    call.hout[k] = tup->elements().at(0).toTensor();
    call.eout[k] = tup->elements().at(1).toTensor();
  }

  // Backward of stage k chunk by chunk (each recomputed with gradients on its own rows as
  // leaves, then freed): adds dE/d edge_vec into edge_grad, returns dE/d h_{k-1} of all
  // nodes (k > 1). Gradients land in their rows by index_add, so a chunk costs its own size.
  torch::Tensor backward_chunks(int k, StagedCall &call, const torch::Tensor &g_h,
                                torch::Tensor &edge_grad)
  {
    const int L = meta.halo_stages;
    const bool keep_energies = k == L && call.last_in_backward;
    const torch::Tensor x = call.xin[k].detach(), ev = call.t.edge_vec.detach();
    torch::Tensor gx, energies;
    if (k > 1) gx = torch::zeros_like(x);
    for (const auto &c : call.chunks) {
      auto xs = x.index_select(0, c.nodes).requires_grad_(k > 1);
      auto evs = ev.index_select(0, c.edges).requires_grad_(true);
      auto [h, e] = run_chunk(k, call.t, c, xs, evs);
      if (keep_energies) put_rows(energies, call.g.nlocal, c.a, e.detach());
      std::vector<torch::Tensor> outs, gouts;
      if (e.requires_grad()) {
        outs.push_back(e);
        gouts.push_back(torch::ones_like(e));
      }
      if (k < L && h.requires_grad()) {
        outs.push_back(h);
        gouts.push_back(g_h.slice(0, c.a, c.b));
      }
      if (outs.empty()) continue;
      std::vector<torch::Tensor> ins{evs};
      if (k > 1) ins.push_back(xs);
      auto grads = torch::autograd::grad(outs, ins, gouts, false, false, true);
      if (grads[0].defined()) edge_grad.index_add_(0, c.edges, grads[0]);
      if (k > 1 && grads[1].defined()) gx.index_add_(0, c.nodes, grads[1]);
    }
    call.hout[k] = torch::Tensor();
    call.eout[k] = energies;
    return gx;
  }

  torch::jit::Module module;
};

}    // namespace

std::unique_ptr<IonmdModel> load_torchscript_model(const std::string &path,
                                                  const std::string &device, int local_rank)
{
  return std::make_unique<TorchScriptModel>(path, device, local_rank);
}

}    // namespace IONMD
