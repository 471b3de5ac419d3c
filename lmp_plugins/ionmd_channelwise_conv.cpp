/* ionmd: the channel-wise ("uvu") edge convolution of MACE-like models as one CPU op.

   out[i, c, u] = sum over edges e with dst[e] == i, and over terms k = (p, a, b, c, v):
                  v * w[e, p, u] * x[src[e], a, u] * y[e, b]

   x: node features [N, A, U] (A irrep components, U channels), y: edge attributes
   (spherical harmonics) [E, B], w: per-edge path weights [E, P, U]. The terms are the
   nonzero Clebsch-Gordan coefficients (times e3nn's path normalisation) of every path,
   read off the e3nn tensor product at export (ionmd.export.mace_conv). With `linear`
   [H, P * U], the op takes the radial MLP's hidden features h [E, H] instead of w and
   forms w = h @ linear itself, one block of edges at a time, so that neither w nor its
   gradient is ever stored whole (recomputed per block in the backward pass).

   Why: e3nn's generic tensor product materialises every per-edge output ([E, U, C]),
   gathers and scatters them, and its backward of column slices zero-fills whole
   tensors; this op keeps only its inputs, accumulates messages straight into the
   receivers, and vectorises over channels. Every loop writes to rows that one thread
   owns (receivers, edges or senders), so results do not depend on the thread count.

   Registered as torch.ops.ionmd.channelwise_conv (CPU and Autograd kernels); the plugin
   links this library, Python loads it with ionmd._ops.load(). */

#include <ATen/Parallel.h>
#include <torch/library.h>
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <map>
#include <vector>

namespace {

using torch::Tensor;

struct Term {
  int64_t p, a, b, c;
  double v;
};

std::vector<Term> read_terms(const Tensor &index, const Tensor &value)
{
  TORCH_CHECK(index.dim() == 2 && index.size(1) == 4 && value.dim() == 1 &&
                  value.size(0) == index.size(0),
              "channelwise_conv: term_index must be [K, 4] (p, a, b, c), term_value [K]");
  auto ix = index.to(torch::kInt64).contiguous();
  auto vx = value.to(torch::kFloat64).contiguous();
  const int64_t *ip = ix.data_ptr<int64_t>();
  const double *vp = vx.data_ptr<double>();
  std::vector<Term> terms(ix.size(0));
  for (size_t k = 0; k < terms.size(); ++k)
    terms[k] = {ip[4 * k], ip[4 * k + 1], ip[4 * k + 2], ip[4 * k + 3], vp[k]};
  return terms;
}

/* The terms of one pair of channel vectors (f1, f2), e.g. (w[e, p], x[src, a]), and for
   each third field f3 (e.g. the output component c) the coefficients over the spherical
   harmonics b that multiply that pair: a kernel forms the pair's product once per edge and
   applies it once per f3 with the factor sum_b v * y[e, b]. */
struct Group {
  int64_t f1, f2;
  std::vector<std::pair<int64_t, std::vector<std::pair<int64_t, double>>>> f3;  // f3, [(b, v)]
};

template <typename Key> std::vector<Group> group_terms(const std::vector<Term> &terms, Key key)
{
  std::map<std::array<int64_t, 2>, std::map<int64_t, std::vector<std::pair<int64_t, double>>>> m;
  for (const Term &t : terms) {
    const std::array<int64_t, 3> k = key(t);
    m[{k[0], k[1]}][k[2]].emplace_back(t.b, t.v);
  }
  std::vector<Group> groups;
  for (auto &[pair, rest] : m) {
    Group g{pair[0], pair[1], {}};
    for (auto &[f3, bv] : rest) g.f3.emplace_back(f3, bv);
    groups.push_back(std::move(g));
  }
  return groups;
}

/* In independent lanes, so that the compiler vectorises it without reassociating a
   single sum (which it may not do without -ffast-math). */
template <typename T> T dot_product(const T *a, const T *b, int64_t n)
{
  constexpr int L = 16;
  T lane[L] = {};
  int64_t u = 0;
  for (; u + L <= n; u += L)
    for (int l = 0; l < L; ++l) lane[l] += a[u + l] * b[u + l];
  T sum = 0;
  for (; u < n; ++u) sum += a[u] * b[u];
  for (int l = 0; l < L; ++l) sum += lane[l];
  return sum;
}

template <typename T> T y_factor(const std::vector<std::pair<int64_t, double>> &bv, const T *y)
{
  T f = 0;
  for (const auto &[b, v] : bv) f += static_cast<T>(v) * y[b];
  return f;
}

/* Edges grouped by a node index (counting sort, stable): the edges of node first + k are
   order[offset[k], offset[k + 1]). Only the nodes between the smallest and largest index
   get a row, so that a block of edges sorted by receiver (as LAMMPS lists them) costs its
   own size, not the rank's node count. */
struct EdgesByNode {
  int64_t first = 0;
  std::vector<int64_t> offset, order;
  int64_t count() const { return (int64_t) offset.size() - 1; }
};

EdgesByNode edges_by_node(const int64_t *node, int64_t nedges, int64_t nnodes)
{
  EdgesByNode r;
  r.offset.assign(1, 0);
  if (nedges == 0) return r;
  int64_t lo = nnodes, hi = -1;
  for (int64_t e = 0; e < nedges; ++e) {
    TORCH_CHECK(node[e] >= 0 && node[e] < nnodes, "channelwise_conv: edge ", e,
                " refers to node ", node[e], " outside [0, ", nnodes, ")");
    lo = std::min(lo, node[e]);
    hi = std::max(hi, node[e]);
  }
  r.first = lo;
  r.offset.assign(hi - lo + 2, 0);
  for (int64_t e = 0; e < nedges; ++e) ++r.offset[node[e] - lo + 1];
  for (int64_t k = 0; k < r.count(); ++k) r.offset[k + 1] += r.offset[k];
  r.order.resize(nedges);
  std::vector<int64_t> next(r.offset.begin(), r.offset.end() - 1);
  for (int64_t e = 0; e < nedges; ++e) r.order[next[node[e] - lo]++] = e;
  return r;
}

struct Shapes {
  int64_t N, A, U, E, B, P, C, M;   // M: nodes of the output
};

void check_terms(const std::vector<Term> &terms, const Shapes &s)
{
  for (const Term &t : terms)
    TORCH_CHECK(t.p >= 0 && t.p < s.P && t.a >= 0 && t.a < s.A && t.b >= 0 && t.b < s.B &&
                    t.c >= 0 && t.c < s.C,
                "channelwise_conv: a term indexes outside the inputs");
}

template <typename T>
void forward_kernel(const T *x, const T *y, const T *w, const int64_t *src,
                    const EdgesByNode &in, const std::vector<Group> &pa, const Shapes &s, T *out)
{
  const int64_t U = s.U;
  at::parallel_for(0, in.count(), 1, [&](int64_t begin, int64_t end) {
    std::vector<T> wx(U);
    for (int64_t k = begin; k < end; ++k) {
      T *o = out + (in.first + k) * s.C * U;
      for (int64_t n = in.offset[k]; n < in.offset[k + 1]; ++n) {
        const int64_t e = in.order[n];
        const T *xe = x + src[e] * s.A * U, *ye = y + e * s.B, *we = w + e * s.P * U;
        for (const Group &g : pa) {          // (p, a) -> c
          const T *wp = we + g.f1 * U, *xa = xe + g.f2 * U;
          for (int64_t u = 0; u < U; ++u) wx[u] = wp[u] * xa[u];
          for (const auto &[c, bv] : g.f3) {
            const T f = y_factor(bv, ye);
            T *oc = o + c * U;
            for (int64_t u = 0; u < U; ++u) oc[u] += f * wx[u];
          }
        }
      }
    }
  });
}

/* The gradients, with the forward's groups (p, a) -> c and
   h[u] = sum_c f(p, a, c) gout[dst, c, u], where f = sum_b v y[e, b]:
     d/dw[e, p] += h * x[src, a],   d/dx[src, a] += h * w[e, p],
     d/dy[e, b] += v * dot(w[e, p] * x[src, a], gout[dst, c]).
   First pass, receiver by receiver as in the forward, so that gout[dst] (C x U values,
   the largest rows) stays in cache: d/dw and d/dy of each edge, and each edge's share of
   d/dx, q[e, a] = sum_p h * w[e, p]. Second pass, sender by sender: d/dx = sum of q. A
   thread owns the rows it writes in each pass. */
template <typename T>
void backward_edges_kernel(const T *x, const T *y, const T *w, const int64_t *src,
                           const EdgesByNode &by_dst, const T *gout,
                           const std::vector<Group> &pa, const Shapes &s, T *q, T *gy, T *gw)
{
  const int64_t U = s.U;
  at::parallel_for(0, by_dst.count(), 1, [&](int64_t begin, int64_t end) {
    std::vector<T> h(U), wx(U), gw_e(s.P * U), gy_e(s.B), q_e(s.A * U);
    for (int64_t k = begin; k < end; ++k) {
      const T *gi = gout + (by_dst.first + k) * s.C * U;
      for (int64_t n = by_dst.offset[k]; n < by_dst.offset[k + 1]; ++n) {
        const int64_t e = by_dst.order[n];
        const T *xe = x + src[e] * s.A * U, *ye = y + e * s.B, *we = w + e * s.P * U;
        std::fill(gw_e.begin(), gw_e.end(), T(0));
        std::fill(gy_e.begin(), gy_e.end(), T(0));
        std::fill(q_e.begin(), q_e.end(), T(0));
        for (const Group &g : pa) {          // (p, a) -> c
          const T *wp = we + g.f1 * U, *xa = xe + g.f2 * U;
          if (gw || q) {
            std::fill(h.begin(), h.end(), T(0));
            for (const auto &[c, bv] : g.f3) {
              const T f = y_factor(bv, ye);
              const T *gc = gi + c * U;
              for (int64_t u = 0; u < U; ++u) h[u] += f * gc[u];
            }
            if (gw) {
              T *gp = gw_e.data() + g.f1 * U;
              for (int64_t u = 0; u < U; ++u) gp[u] += h[u] * xa[u];
            }
            if (q) {
              T *qa = q_e.data() + g.f2 * U;
              for (int64_t u = 0; u < U; ++u) qa[u] += h[u] * wp[u];
            }
          }
          if (gy) {
            for (int64_t u = 0; u < U; ++u) wx[u] = wp[u] * xa[u];
            for (const auto &[c, bv] : g.f3) {
              const T dot = dot_product(wx.data(), gi + c * U, U);
              for (const auto &[b, v] : bv) gy_e[b] += static_cast<T>(v) * dot;
            }
          }
        }
        if (gw) std::copy(gw_e.begin(), gw_e.end(), gw + e * s.P * U);
        if (gy) std::copy(gy_e.begin(), gy_e.end(), gy + e * s.B);
        if (q) std::copy(q_e.begin(), q_e.end(), q + e * s.A * U);
      }
    }
  });
}

template <typename T>
void backward_senders_kernel(const T *q, const EdgesByNode &by_src, const Shapes &s, T *gx)
{
  const int64_t AU = s.A * s.U;
  at::parallel_for(0, by_src.count(), 1, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      T *gj = gx + (by_src.first + k) * AU;
      for (int64_t n = by_src.offset[k]; n < by_src.offset[k + 1]; ++n) {
        const T *qe = q + by_src.order[n] * AU;
        for (int64_t k = 0; k < AU; ++k) gj[k] += qe[k];
      }
    }
  });
}

/* The per-edge path weights w [E, P, U], or, with `linear` [H, P * U], the last linear
   layer of the radial MLP applied here to its hidden features h [E, H] (w = h @ linear),
   one block of edges at a time: then no [E, P * U] tensor exists in the forward pass, nor
   its gradient in the backward pass (the block is recomputed; one GEMM more). */
struct Weights {
  Tensor w, linear;
  int64_t P, U;
  Tensor block(int64_t start, int64_t n) const
  {
    if (!linear.defined()) return w.narrow(0, start, n);
    return at::mm(w.narrow(0, start, n), linear).view({n, P, U});
  }
};

Weights read_weights(const Tensor &w_in, const Tensor &linear, const Tensor &x)
{
  Weights r{w_in.contiguous(), linear, 0, x.size(2)};
  if (!linear.defined()) {
    TORCH_CHECK(w_in.dim() == 3, "channelwise_conv: weights [E, P, U] (or [E, H] with linear)");
    r.P = w_in.size(1);
    return r;
  }
  TORCH_CHECK(w_in.dim() == 2 && linear.dim() == 2 && linear.size(0) == w_in.size(1) &&
                  linear.size(1) % r.U == 0,
              "channelwise_conv: with linear [H, P * U], weights are the hidden features [E, H]");
  TORCH_CHECK(!linear.requires_grad(), "channelwise_conv: no gradient for `linear`; it is the "
              "model's constant");
  r.linear = linear.contiguous();
  r.P = linear.size(1) / r.U;
  return r;
}

Shapes shapes_of(const Tensor &x, const Tensor &y, const Weights &w, const Tensor &src,
                 const Tensor &dst, int64_t num_out, int64_t num_comps)
{
  TORCH_CHECK(x.device().is_cpu(), "channelwise_conv runs on the CPU only");
  TORCH_CHECK(x.dim() == 3 && y.dim() == 2, "channelwise_conv: x [N, A, U], edge_attrs [E, B]");
  TORCH_CHECK(y.size(0) == w.w.size(0) && src.numel() == y.size(0) && dst.numel() == y.size(0),
              "channelwise_conv: edge_attrs, weights, src and dst disagree on the edge count");
  TORCH_CHECK(w.linear.defined() || w.w.size(2) == x.size(2),
              "channelwise_conv: weights and x disagree on channels");
  TORCH_CHECK(x.scalar_type() == y.scalar_type() && x.scalar_type() == w.w.scalar_type() &&
                  (!w.linear.defined() || w.linear.scalar_type() == x.scalar_type()),
              "channelwise_conv: x, edge_attrs and weights must share one dtype");
  return {x.size(0), x.size(1), x.size(2), y.size(0), y.size(1), w.P, num_comps, num_out};
}

void check_senders(const Tensor &src, const Shapes &s)
{
  const int64_t *p = src.data_ptr<int64_t>();
  for (int64_t e = 0; e < s.E; ++e)
    TORCH_CHECK(p[e] >= 0 && p[e] < s.N, "channelwise_conv: edge ", e,
                " has a sender outside [0, ", s.N, ")");
}

Tensor conv_forward(const Tensor &x_in, const Tensor &y_in, const Tensor &w_in,
                    const Tensor &src_in, const Tensor &dst_in, int64_t num_out,
                    int64_t num_comps, const Tensor &term_index, const Tensor &term_value,
                    const c10::optional<Tensor> &linear, int64_t block)
{
  auto x = x_in.contiguous(), y = y_in.contiguous();
  const Weights w = read_weights(w_in, linear.value_or(Tensor()), x);
  auto src = src_in.to(torch::kInt64).contiguous(), dst = dst_in.to(torch::kInt64).contiguous();
  const Shapes s = shapes_of(x, y, w, src, dst, num_out, num_comps);
  const auto terms = read_terms(term_index, term_value);
  check_terms(terms, s);
  check_senders(src, s);
  TORCH_CHECK(block > 0, "channelwise_conv: block must be positive");
  auto out = torch::zeros({s.M, s.C, s.U}, x.options());
  const auto pa = group_terms(terms, [](const Term &t) { return std::array<int64_t, 3>{t.p, t.a, t.c}; });
  for (int64_t start = 0; start < s.E; start += block) {
    const int64_t n = std::min(block, s.E - start);
    const Tensor wb = w.block(start, n).contiguous();
    const auto in = edges_by_node(dst.data_ptr<int64_t>() + start, n, s.M);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "channelwise_conv", [&] {
      forward_kernel<scalar_t>(x.data_ptr<scalar_t>(), y.data_ptr<scalar_t>() + start * s.B,
                               wb.data_ptr<scalar_t>(), src.data_ptr<int64_t>() + start, in, pa,
                               s, out.data_ptr<scalar_t>());
    });
  }
  return out;
}

/* Block by block: d/dy and d/dw (or d/dh = d/dw @ linear^T) of the block's edges, and
   their share of d/dx added sender by sender (blocks in order: the same sums on any
   number of threads). */
std::vector<Tensor> conv_backward(const Tensor &gout_in, const Tensor &x, const Tensor &y,
                                  const Weights &w, const Tensor &src, const Tensor &dst,
                                  int64_t num_comps, const Tensor &term_index,
                                  const Tensor &term_value, int64_t block, bool need_x,
                                  bool need_y, bool need_w)
{
  const Shapes s = shapes_of(x, y, w, src, dst, gout_in.size(0), num_comps);
  auto gout = gout_in.contiguous();
  const auto terms = read_terms(term_index, term_value);
  Tensor gx, gy, gw;
  if (need_x) gx = torch::zeros_like(x);
  if (need_y) gy = torch::empty_like(y);      // every edge's row is written whole
  if (need_w) gw = torch::empty_like(w.w);
  const auto pa = group_terms(terms, [](const Term &t) { return std::array<int64_t, 3>{t.p, t.a, t.c}; });
  for (int64_t start = 0; start < s.E; start += block) {
    const int64_t n = std::min(block, s.E - start);
    const Tensor wb = w.block(start, n).contiguous();
    Tensor gwb, q;      // q: each edge's share of d/dx, summed per sender below
    if (need_w) gwb = w.linear.defined() ? torch::empty({n, s.P, s.U}, x.options()) : gw.narrow(0, start, n);
    if (need_x) q = torch::empty({n, s.A, s.U}, x.options());
    const auto by_dst = edges_by_node(dst.data_ptr<int64_t>() + start, n, s.M);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "channelwise_conv_backward", [&] {
      backward_edges_kernel<scalar_t>(x.data_ptr<scalar_t>(), y.data_ptr<scalar_t>() + start * s.B,
                                      wb.data_ptr<scalar_t>(), src.data_ptr<int64_t>() + start,
                                      by_dst, gout.data_ptr<scalar_t>(), pa, s,
                                      need_x ? q.data_ptr<scalar_t>() : nullptr,
                                      need_y ? gy.data_ptr<scalar_t>() + start * s.B : nullptr,
                                      need_w ? gwb.data_ptr<scalar_t>() : nullptr);
      if (need_x)
        backward_senders_kernel<scalar_t>(q.data_ptr<scalar_t>(),
                                          edges_by_node(src.data_ptr<int64_t>() + start, n, s.N),
                                          s, gx.data_ptr<scalar_t>());
    });
    if (need_w && w.linear.defined())
      gw.narrow(0, start, n).copy_(at::mm(gwb.view({n, s.P * s.U}), w.linear.t()));
  }
  return {gx, gy, gw};
}

/* First derivatives only: forces and virials need dE/dx, not second derivatives. */
class ChannelwiseConv : public torch::autograd::Function<ChannelwiseConv> {
 public:
  static Tensor forward(torch::autograd::AutogradContext *ctx, const Tensor &x, const Tensor &y,
                        const Tensor &w, const Tensor &src, const Tensor &dst, int64_t num_out,
                        int64_t num_comps, const Tensor &term_index, const Tensor &term_value,
                        const c10::optional<Tensor> &linear, int64_t block)
  {
    const Tensor lin = linear.value_or(Tensor());
    ctx->save_for_backward({x, y, w, src, dst, term_index, term_value, lin});
    ctx->saved_data["num_comps"] = num_comps;
    ctx->saved_data["block"] = block;
    return conv_forward(x, y, w, src, dst, num_out, num_comps, term_index, term_value, linear,
                        block);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grad)
  {
    auto v = ctx->get_saved_variables();
    auto x = v[0].contiguous();
    const Weights w = read_weights(v[2], v[7], x);
    auto g = conv_backward(grad[0], x, v[1].contiguous(), w, v[3].to(torch::kInt64).contiguous(),
                           v[4].to(torch::kInt64).contiguous(),
                           ctx->saved_data["num_comps"].toInt(), v[5], v[6],
                           ctx->saved_data["block"].toInt(), ctx->needs_input_grad(0),
                           ctx->needs_input_grad(1), ctx->needs_input_grad(2));
    return {g[0], g[1], g[2], Tensor(), Tensor(), Tensor(), Tensor(), Tensor(), Tensor(),
            Tensor(), Tensor()};
  }
};

Tensor conv_autograd(const Tensor &x, const Tensor &y, const Tensor &w, const Tensor &src,
                     const Tensor &dst, int64_t num_out, int64_t num_comps,
                     const Tensor &term_index, const Tensor &term_value,
                     const c10::optional<Tensor> &linear, int64_t block)
{
  return ChannelwiseConv::apply(x, y, w, src, dst, num_out, num_comps, term_index, term_value,
                                linear, block);
}

}    // namespace

TORCH_LIBRARY_FRAGMENT(ionmd, m)
{
  m.def("channelwise_conv(Tensor x, Tensor edge_attrs, Tensor weights, Tensor src, Tensor dst, "
        "int num_out, int num_comps, Tensor term_index, Tensor term_value, "
        "Tensor? linear=None, int block=4096) -> Tensor");
}

TORCH_LIBRARY_IMPL(ionmd, CPU, m) { m.impl("channelwise_conv", conv_forward); }

TORCH_LIBRARY_IMPL(ionmd, Autograd, m) { m.impl("channelwise_conv", conv_autograd); }
