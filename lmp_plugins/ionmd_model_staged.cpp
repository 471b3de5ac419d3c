/* ionmd: the staged evaluation shared by the TorchScript and AOTInductor runtimes.

   Stage by stage (docs/model-contract.md, "Per-layer stages"): stages_forward, then the
   float64 energy sum, then stages_backward; an empty rank only joins the exchanges. How
   one stage runs forward and backward (autograd, or compiled vector-Jacobian programs) is
   the runtime's. */

#include "ionmd_model_torch.h"

#include <exception>
#include <new>

namespace IONMD {

void StagedTorchModel::compute_staged(const IonmdGraph &g, HaloExchange &halo, bool recompute,
                                      bool want_atom_energy, IonmdResult &res)
{
  try {
    const int64_t nloc = g.nlocal;
    StagedCall call(g, graph_tensors(g, device, dtype), meta.halo_stages, recompute);
    if (recompute) call.chunks = make_chunks(g, edge_chunk);
    call.last_in_backward = last_stage_energy_in_backward(call);
    stages_forward(call, halo);
    torch::Tensor edge_grad = stages_backward(call, halo);
    // the other ranks waited in the exchanges this rank joined with zeros: now its failure
    // goes to the collective check after the call
    if (call.failure) std::rethrow_exception(call.failure);
    store_edge_grad(edge_grad, g.nedges(), res);
    res.energy = nloc > 0 ? call.atom_e.sum().item<double>() : 0.0;
    if (want_atom_energy) {
      if (nloc > 0) store_atom_energy(call.atom_e, g.nlocal, res);
      else res.atom_energy.clear();
    }
  } catch (...) {
    rethrow_model_failure("staged model evaluation failed");
  }
}

void rethrow_model_failure(const std::string &what_failed)
{
  auto op_error = [](std::string text) {
    if (text.find("Traceback of TorchScript") == std::string::npos) return text;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    const auto nl = text.find_last_of('\n');
    return nl == std::string::npos ? text : text.substr(nl + 1);
  };
  try {
    throw;
  } catch (const IonmdError &) {
    throw;
  } catch (const c10::Error &e) {
    throw IonmdError(what_failed + ": " + op_error(e.what_without_backtrace()));
  } catch (const std::bad_alloc &) {
    throw IonmdError(what_failed + ": out of memory (std::bad_alloc)");
  } catch (const std::exception &e) {
    throw IonmdError(what_failed + ": " + op_error(e.what()));
  }
}

// Adds stage k's local energies (call.eout[k]) into the float64 per-atom sum.
void StagedTorchModel::add_energies(int k, StagedCall &call) const
{
  const int64_t nloc = call.g.nlocal;
  const torch::Tensor &e = call.eout[k];
  if (!e.defined() || e.dim() != 1 || e.size(0) != nloc)
    throw IonmdError("halo_stage " + std::to_string(k) + " returned energies of shape " +
                     (e.defined() ? shape_str(e) : std::string("(none)")) + ", expected [" +
                     std::to_string(nloc) + "]");
  torch::Tensor e64 = e.detach().to(torch::kFloat64);
  call.atom_e = call.atom_e.defined() ? call.atom_e + e64 : e64;
}

/* h_0 = embed(species) on every node; for k = 1..L the stage reads h_{k-1} of all
   nodes and returns h_k and the energy contribution of the local nodes; the ghost rows
   of h_k come from the halo exchange. When the last stage's backward also gives its
   energies (call.last_in_backward), its forward is skipped: h_L is never needed. */
void StagedTorchModel::stages_forward(StagedCall &call, HaloExchange &halo)
{
  const int L = meta.halo_stages;
  const int64_t nloc = call.g.nlocal, nn = call.g.nnodes();
  auto active = [&] { return nloc > 0 && !call.failure; };
  auto host64 = torch::TensorOptions().dtype(torch::kFloat64);
  torch::Tensor h;
  if (active()) {
    try {
      h = stage_embed(call).detach();
      check_rows(h, nn, meta.halo_widths[0], "halo_embed");
    } catch (...) {
      call.failure = std::current_exception();
    }
  }
  for (int k = 1; k <= L; ++k) {
    torch::Tensor hk;
    if (active()) {
      call.xin[k] = h;
      if (k == L && call.last_in_backward) break;
      try {
        hk = stage_forward(k, call);
        add_energies(k, call);
        if (k < L) check_rows(hk, nloc, meta.halo_widths[k], "halo_stage");
      } catch (...) {
        call.failure = std::current_exception();
      }
    }
    if (k < L && !halo.exchanges() && nn == nloc) {
      if (call.failure) std::rethrow_exception(call.failure);    // no exchange to join
      h = hk.detach();    // every node is local: no host buffer, no float64 copy
    } else if (k < L) {
      const int w = meta.halo_widths[k];
      torch::Tensor rows = torch::zeros({nn, w}, host64);
      if (active()) rows.slice(0, 0, nloc).copy_(hk.detach());
      halo.forward(rows.data_ptr<double>(), w);
      if (active()) h = rows.to(device, dtype);
    }
  }
}

/* In reverse stage order: each stage's backward gives dE/d edge_vec (summed over stages)
   and dE/d h_{k-1} of all nodes, whose ghost rows the reverse exchange adds into their
   owners. Returns dE/d edge_vec (undefined on an empty rank). */
torch::Tensor StagedTorchModel::stages_backward(StagedCall &call, HaloExchange &halo)
{
  const int L = meta.halo_stages;
  const int64_t nloc = call.g.nlocal, nn = call.g.nnodes();
  auto active = [&] { return nloc > 0 && !call.failure; };
  auto host64 = torch::TensorOptions().dtype(torch::kFloat64);
  torch::Tensor edge_grad, g_h;
  if (active()) edge_grad = torch::zeros_like(call.t.edge_vec);
  for (int k = L; k >= 1; --k) {
    torch::Tensor gx;
    if (active()) {
      try {
        gx = stage_backward(k, call, g_h, edge_grad);
        if (k == L && call.last_in_backward) add_energies(L, call);
      } catch (...) {
        call.failure = std::current_exception();
        gx = torch::Tensor();
      }
    }
    if (k > 1 && !halo.exchanges() && nn == nloc) {
      if (call.failure) std::rethrow_exception(call.failure);
      if (active())
        g_h = gx.defined() ? gx.detach()
                           : torch::zeros({nloc, (int64_t) meta.halo_widths[k - 1]},
                                          call.t.edge_vec.options());
    } else if (k > 1) {
      const int w = meta.halo_widths[k - 1];
      torch::Tensor rows = torch::zeros({nn, w}, host64);
      if (gx.defined()) rows.copy_(gx.detach());
      halo.reverse(rows.data_ptr<double>(), w);
      if (active()) g_h = rows.slice(0, 0, nloc).to(device, dtype);
    }
  }
  return edge_grad;
}

// One pass over the edges, one over each chunk's nodes.
std::vector<StagedTorchModel::Chunk> StagedTorchModel::make_chunks(const IonmdGraph &g,
                                                                   int64_t max_edges) const
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

void StagedTorchModel::check_rows(const torch::Tensor &x, int64_t rows, int width,
                                  const char *what)
{
  if (x.dim() != 2 || x.size(0) != rows || x.size(1) != width)
    throw IonmdError(std::string(what) + " returned node features of shape " + shape_str(x) +
                    ", expected [" + std::to_string(rows) + "," + std::to_string(width) +
                    "] (metadata halo_widths and the model's stages disagree)");
}

void StagedTorchModel::put_rows(torch::Tensor &dst, int64_t rows, int64_t a,
                                const torch::Tensor &src)
{
  if (!dst.defined()) {
    std::vector<int64_t> shape = src.sizes().vec();
    shape[0] = rows;
    dst = torch::empty(shape, src.options());
  }
  dst.slice(0, a, a + src.size(0)).copy_(src);
}

}    // namespace IONMD
