/* ionmd: TorchScript runtime behind the IonmdModel interface.

   Forces come from C++ autograd: the model returns per-atom energies, we sum the
   local ones in float64 and take dE/d(edge_vec). Every c10/JIT exception is turned
   into IonmdError here, so the pair style never sees torch types. */

#include "ionmd_model_torch.h"

#include <torch/script.h>

namespace IONMD {

namespace {

const char *METADATA_ENTRY = "ionmd/metadata";

class TorchScriptModel : public IonmdModel {
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
      throw IonmdError("cannot read model file " + path +
                      " as TorchScript: " + e.what_without_backtrace());
    }
    if (extra[METADATA_ENTRY].empty())
      throw IonmdError("model file " + path + " carries no ionmd metadata: it was not written "
                      "by `ionmd export`; export the model with ionmd first");
    meta = parse_metadata(extra[METADATA_ENTRY], path);
    dtype = meta.dtype == "float64" ? torch::kFloat64 : torch::kFloat32;
    module.eval();
    if (meta.halo_stages > 0 &&
        (!module.find_method("halo_embed") || !module.find_method("halo_stage")))
      throw IonmdError("model file " + path + " declares halo_stages=" +
                      std::to_string(meta.halo_stages) + " but has no halo_embed/halo_stage "
                      "methods; re-export the model with `ionmd export`");
  }

  void set_edge_chunk(int64_t max_edges) override { edge_chunk = max_edges; }
  std::string device_name() const override { return device.str(); }
  double device_peak_mib() const override { return cuda_peak_allocated_mib(device); }
  double device_allocated_bytes() const override { return cuda_allocated_bytes(device); }
  double device_available_bytes() const override { return cuda_available_bytes(device); }
  void reset_device_peak() override { cuda_reset_peak(device); }

  /* Stage by stage (docs/model-contract.md, "Per-layer stages"): stages_forward, then the
     float64 energy sum, then stages_backward; an empty rank only joins the exchanges.
     With `recompute`, the forward keeps no autograd graph, only each stage's input
     features, and the backward re-runs one stage at a time with gradients: the peak then
     holds one stage's intermediates instead of all of them, for one more forward pass. */
  void compute_staged(const IonmdGraph &g, HaloExchange &halo, bool recompute,
                      bool want_atom_energy, IonmdResult &res) override
  {
    try {
      const int64_t nloc = g.nlocal;
      auto host64 = torch::TensorOptions().dtype(torch::kFloat64);
      GraphTensors t = graph_tensors(g, device, dtype);
      StageTape tape(meta.halo_stages, recompute);
      if (recompute) tape.chunks = make_chunks(g, edge_chunk);
      stages_forward(g, t, halo, tape);
      torch::Tensor energy = torch::zeros({}, host64), atom_e;
      if (nloc > 0) {
        atom_e = torch::zeros({nloc}, host64.device(device));
        for (int k = 1; k <= meta.halo_stages; ++k)
          atom_e = atom_e + tape.eout[k].detach().to(torch::kFloat64);
        energy = atom_e.sum();
      }
      store_edge_grad(stages_backward(g, t, halo, tape), g.nedges(), res);
      res.energy = energy.item<double>();
      if (want_atom_energy) {
        if (nloc > 0) store_atom_energy(atom_e, g.nlocal, res);
        else res.atom_energy.clear();
      }
    } catch (const c10::Error &e) {
      throw IonmdError(std::string("staged model evaluation failed: ") + e.what_without_backtrace());
    }
  }

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
    } catch (const c10::Error &e) {
      throw IonmdError(std::string("model evaluation failed: ") + e.what_without_backtrace());
    }
  }

 private:
  // What the backward pass needs of stage k = 1..L: its inputs (leaves) and outputs, with
  // their autograd graphs; or, when it recomputes, the input features alone.
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

  struct StageTape {
    StageTape(int L, bool recompute) :
        recompute(recompute), xin(L + 1), evec(L + 1), hout(L + 1), eout(L + 1) {}
    bool recompute;
    std::vector<torch::Tensor> xin, evec, hout, eout;
    std::vector<Chunk> chunks;   // empty: every stage runs on the whole graph
  };

  // Receivers split so that each chunk has about max_edges edges (none when one suffices);
  // one pass over the edges, one over each chunk's nodes.
  std::vector<Chunk> make_chunks(const IonmdGraph &g, int64_t max_edges) const
  {
    std::vector<Chunk> chunks;
    const int64_t nloc = g.nlocal, nn = g.nnodes(), ne = g.nedges();
    if (max_edges <= 0 || ne <= max_edges || nloc < 2) return chunks;
    std::vector<int64_t> per_receiver(nloc, 0);
    for (int64_t e = 0; e < ne; ++e) ++per_receiver[g.edge_i[e]];
    std::vector<std::pair<int64_t, int64_t>> ranges;
    std::vector<int64_t> chunk_of(nloc);
    int64_t a = 0, acc = 0;
    for (int64_t n = 0; n < nloc; ++n) {
      acc += per_receiver[n];
      chunk_of[n] = (int64_t) ranges.size();
      if (acc >= max_edges || n == nloc - 1) {
        ranges.emplace_back(a, n + 1);
        a = n + 1;
        acc = 0;
      }
    }
    if (ranges.size() < 2) return chunks;
    std::vector<std::vector<int64_t>> sel(ranges.size());
    for (int64_t e = 0; e < ne; ++e) sel[chunk_of[g.edge_i[e]]].push_back(e);
    auto i64 = torch::TensorOptions().dtype(torch::kInt64);
    std::vector<int64_t> local_id(nn, -1);
    for (size_t c = 0; c < ranges.size(); ++c) {
      const auto [lo, hi] = ranges[c];
      std::vector<int64_t> nodes, rows;
      for (int64_t n = lo; n < hi; ++n) {
        local_id[n] = n - lo;
        nodes.push_back(n);
      }
      const auto &edges = sel[c];
      const int64_t m = (int64_t) edges.size();
      rows.resize(2 * m);
      for (int64_t q = 0; q < m; ++q) {
        const int64_t j = g.edge_j[edges[q]];
        if (local_id[j] < 0) {
          local_id[j] = (int64_t) nodes.size();
          nodes.push_back(j);
        }
        rows[q] = local_id[g.edge_i[edges[q]]];
        rows[m + q] = local_id[j];
      }
      for (int64_t n : nodes) local_id[n] = -1;
      chunks.push_back({lo, hi, torch::tensor(nodes, i64).to(device),
                        torch::tensor(edges, i64).to(device),
                        torch::tensor(rows, i64).view({2, m}).to(device)});
    }
    return chunks;
  }

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

  // Stage k on the tape's inputs; with gradients, its inputs become fresh leaves.
  void run_stage(int k, const GraphTensors &t, int64_t nloc, StageTape &tape, bool grad)
  {
    std::unique_ptr<torch::NoGradGuard> no_grad;
    if (!grad) no_grad = std::make_unique<torch::NoGradGuard>();
    if (!grad && !tape.chunks.empty()) {      // recomputing: one chunk's work at a time
      std::vector<torch::Tensor> hs, es;
      for (const auto &c : tape.chunks) {
        auto [h, e] = run_chunk(k, t, c, tape.xin[k].index_select(0, c.nodes),
                                t.edge_vec.index_select(0, c.edges));
        hs.push_back(h);
        es.push_back(e);
      }
      tape.hout[k] = torch::cat(hs);
      tape.eout[k] = torch::cat(es);
      return;
    }
    if (grad) {
      tape.xin[k] = tape.xin[k].detach().requires_grad_(k > 1);
      tape.evec[k] = t.edge_vec.detach().requires_grad_(true);
    } else {
      tape.evec[k] = t.edge_vec;
    }
    auto out = module.get_method("halo_stage")(
        {(int64_t) k, tape.xin[k], tape.evec[k], t.edge_index, t.species, nloc});
    auto tup = out.toTuple();
    tape.hout[k] = tup->elements().at(0).toTensor();
    tape.eout[k] = tup->elements().at(1).toTensor();
  }

  /* h_0 = embed(species) on every node; for k = 1..L the stage reads h_{k-1} of all
     nodes and returns h_k and the energy contribution of the local nodes; the ghost rows
     of h_k come from the halo exchange. */
  void stages_forward(const IonmdGraph &g, const GraphTensors &t, HaloExchange &halo,
                      StageTape &tape)
  {
    const int L = meta.halo_stages;
    const int64_t nloc = g.nlocal, nn = g.nnodes();
    const bool active = nloc > 0;
    auto host64 = torch::TensorOptions().dtype(torch::kFloat64);
    torch::Tensor h;
    if (active) {
      h = module.get_method("halo_embed")({t.species}).toTensor().detach();
      check_rows(h, nn, meta.halo_widths[0], "halo_embed");
    }
    for (int k = 1; k <= L; ++k) {
      if (active) {
        tape.xin[k] = h.detach();
        run_stage(k, t, nloc, tape, !tape.recompute);
        if (tape.eout[k].dim() != 1 || tape.eout[k].size(0) != nloc)
          throw IonmdError("halo_stage " + std::to_string(k) + " returned energies of shape " +
                           shape_str(tape.eout[k]) + ", expected [" + std::to_string(nloc) + "]");
        if (k < L) check_rows(tape.hout[k], nloc, meta.halo_widths[k], "halo_stage");
      }
      if (k < L) {
        const int w = meta.halo_widths[k];
        torch::Tensor rows = torch::zeros({nn, w}, host64);
        if (active) rows.slice(0, 0, nloc).copy_(tape.hout[k].detach());
        halo.forward(rows.data_ptr<double>(), w);
        if (active) h = rows.to(device, dtype);
      }
    }
  }

  // Backward of stage k chunk by chunk (each recomputed with gradients on its own rows as
  // leaves, then freed): adds dE/d edge_vec into edge_grad, returns dE/d h_{k-1} of all
  // nodes (k > 1). Gradients land in their rows by index_add, so a chunk costs its own size.
  torch::Tensor backward_chunks(int k, const GraphTensors &t, StageTape &tape,
                                const torch::Tensor &g_h, torch::Tensor &edge_grad)
  {
    const int L = meta.halo_stages;
    const torch::Tensor x = tape.xin[k].detach(), ev = t.edge_vec.detach();
    torch::Tensor gx;
    if (k > 1) gx = torch::zeros_like(x);
    for (const auto &c : tape.chunks) {
      auto xs = x.index_select(0, c.nodes).requires_grad_(k > 1);
      auto evs = ev.index_select(0, c.edges).requires_grad_(true);
      auto [h, e] = run_chunk(k, t, c, xs, evs);
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
    tape.hout[k] = tape.eout[k] = tape.evec[k] = torch::Tensor();
    return gx;
  }

  /* In reverse stage order, each stage's inputs are leaves: autograd::grad gives
     dE/d edge_vec (summed over stages) and dE/d h_{k-1} of all nodes, whose ghost rows
     the reverse exchange adds into their owners. Returns dE/d edge_vec (undefined on an
     empty rank). */
  torch::Tensor stages_backward(const IonmdGraph &g, const GraphTensors &t, HaloExchange &halo,
                                StageTape &tape)
  {
    const int L = meta.halo_stages;
    const int64_t nloc = g.nlocal, nn = g.nnodes();
    const bool active = nloc > 0;
    auto host64 = torch::TensorOptions().dtype(torch::kFloat64);
    torch::Tensor edge_grad, g_h;
    if (active) edge_grad = torch::zeros_like(t.edge_vec);
    for (int k = L; k >= 1; --k) {
      torch::Tensor gx;
      if (active && tape.recompute && !tape.chunks.empty()) {
        gx = backward_chunks(k, t, tape, g_h, edge_grad);
      } else if (active) {
        if (tape.recompute) run_stage(k, t, nloc, tape, true);
        std::vector<torch::Tensor> outs, gouts;
        if (tape.eout[k].requires_grad()) {
          outs.push_back(tape.eout[k]);
          gouts.push_back(torch::ones_like(tape.eout[k]));
        }
        if (k < L && tape.hout[k].requires_grad()) {
          outs.push_back(tape.hout[k]);
          gouts.push_back(g_h);
        }
        std::vector<torch::Tensor> ins{tape.evec[k]};
        if (k > 1) ins.push_back(tape.xin[k]);
        if (!outs.empty()) {
          auto grads = torch::autograd::grad(outs, ins, gouts, false, false, true);
          if (grads[0].defined()) edge_grad = edge_grad + grads[0];
          if (k > 1 && grads[1].defined()) gx = grads[1];
        }
        // this stage's graph (and, recomputing, its outputs) are no longer needed
        tape.hout[k] = tape.eout[k] = tape.evec[k] = torch::Tensor();
      }
      if (k > 1) {
        const int w = meta.halo_widths[k - 1];
        torch::Tensor rows = torch::zeros({nn, w}, host64);
        if (gx.defined()) rows.copy_(gx.detach());
        halo.reverse(rows.data_ptr<double>(), w);
        if (active) g_h = rows.slice(0, 0, nloc).to(device, dtype);
      }
    }
    return edge_grad;
  }

  static void check_rows(const torch::Tensor &x, int64_t rows, int width, const char *what)
  {
    if (x.dim() != 2 || x.size(0) != rows || x.size(1) != width)
      throw IonmdError(std::string(what) + " returned node features of shape " + shape_str(x) +
                      ", expected [" + std::to_string(rows) + "," + std::to_string(width) +
                      "] (metadata halo_widths and the model's stages disagree)");
  }

  torch::Device device;
  torch::Dtype dtype = torch::kFloat32;
  int64_t edge_chunk = 0;    // recomputed stages run in chunks of about this many edges
  torch::jit::Module module;
};

}    // namespace

std::unique_ptr<IonmdModel> load_torchscript_model(const std::string &path,
                                                  const std::string &device, int local_rank)
{
  return std::make_unique<TorchScriptModel>(path, device, local_rank);
}

}    // namespace IONMD
