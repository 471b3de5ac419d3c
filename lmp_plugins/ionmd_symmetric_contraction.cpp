/* ionmd: MACE's symmetric contraction (the product basis) as one CPU op.

   out[b, o, c] = sum over entries j = (o, i1, ..., inu) of
                  t[g[b], j, c] * x[b, i1, c] * ... * x[b, inu, c]

   x: node features [N, I, C] (I spherical-harmonic components, C channels), g: each node's
   row of t (its element), t: [G, J, C] the coefficient of each symmetric monomial
   (i1 <= ... <= inu), i.e. MACE's generalised Clebsch-Gordan tensors U contracted with
   the element's weights (ionmd.export.mace_product). entry_index [J, 1 + nu_max] holds
   (o, i1, ..., inu), padded with -1.

   Why: mace-torch evaluates the dense U tensors with einsum, whose intermediates hold
   [N, C, 3, 16, 16] floats for correlation 3 (0.4 GB at 1,000 atoms) although only a few
   hundred monomials are nonzero. Nodes are independent, so every loop writes to rows of
   one thread, and the op runs in the same order on any number of threads. */

#include <ATen/Parallel.h>
#include <torch/library.h>
#include <torch/torch.h>

#include <vector>

namespace {

using torch::Tensor;

struct Entries {
  int64_t width;                 // 1 + nu_max
  std::vector<int64_t> index;    // [J, width]
  int64_t size() const { return width ? static_cast<int64_t>(index.size()) / width : 0; }
};

Entries read_entries(const Tensor &entry_index, int64_t I, int64_t O)
{
  TORCH_CHECK(entry_index.dim() == 2 && entry_index.size(1) >= 2,
              "symmetric_contraction: entry_index must be [J, 1 + nu_max]");
  auto e = entry_index.to(torch::kInt64).contiguous();
  Entries r{e.size(1), std::vector<int64_t>(e.data_ptr<int64_t>(), e.data_ptr<int64_t>() + e.numel())};
  for (int64_t j = 0; j < r.size(); ++j) {
    const int64_t *row = r.index.data() + j * r.width;
    TORCH_CHECK(row[0] >= 0 && row[0] < O && row[1] >= 0 && row[1] < I,
                "symmetric_contraction: entry ", j, " indexes outside the inputs");
    for (int64_t m = 2; m < r.width; ++m)
      TORCH_CHECK(row[m] < I, "symmetric_contraction: entry ", j, " indexes outside x");
  }
  return r;
}

struct Shapes {
  int64_t N, I, C, G, J, O;
};

Shapes check_inputs(const Tensor &x, const Tensor &group, const Tensor &t, int64_t num_out)
{
  TORCH_CHECK(x.device().is_cpu(), "symmetric_contraction runs on the CPU only");
  TORCH_CHECK(x.dim() == 3 && t.dim() == 3 && group.dim() == 1 && group.size(0) == x.size(0),
              "symmetric_contraction: x [N, I, C], group [N], coefficients [G, J, C]");
  TORCH_CHECK(t.size(2) == x.size(2), "symmetric_contraction: x and coefficients disagree on channels");
  TORCH_CHECK(t.scalar_type() == x.scalar_type(), "symmetric_contraction: x and coefficients must share one dtype");
  return {x.size(0), x.size(1), x.size(2), t.size(0), t.size(1), num_out};
}

std::vector<int64_t> read_groups(const Tensor &group, int64_t G)
{
  auto g = group.to(torch::kInt64).contiguous();
  std::vector<int64_t> r(g.data_ptr<int64_t>(), g.data_ptr<int64_t>() + g.numel());
  for (int64_t v : r) TORCH_CHECK(v >= 0 && v < G, "symmetric_contraction: a node's group is outside the coefficients");
  return r;
}

template <typename T>
void forward_kernel(const T *x, const std::vector<int64_t> &group, const T *t, const Entries &en,
                    const Shapes &s, T *out)
{
  const int64_t C = s.C;
  at::parallel_for(0, s.N, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> prod(C);
    for (int64_t b = begin; b < end; ++b) {
      const T *xb = x + b * s.I * C, *tb = t + group[b] * s.J * C;
      T *ob = out + b * s.O * C;
      for (int64_t j = 0; j < s.J; ++j) {
        const int64_t *row = en.index.data() + j * en.width;
        const T *tj = tb + j * C;
        for (int64_t c = 0; c < C; ++c) prod[c] = tj[c];
        for (int64_t m = 1; m < en.width && row[m] >= 0; ++m) {
          const T *xi = xb + row[m] * C;
          for (int64_t c = 0; c < C; ++c) prod[c] *= xi[c];
        }
        T *oo = ob + row[0] * C;
        for (int64_t c = 0; c < C; ++c) oo[c] += prod[c];
      }
    }
  });
}

/* d/dx of each monomial: t * gout times the product of the other factors. */
template <typename T>
void backward_kernel(const T *x, const std::vector<int64_t> &group, const T *t, const Entries &en,
                     const T *gout, const Shapes &s, T *gx)
{
  const int64_t C = s.C;
  at::parallel_for(0, s.N, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> tg(C), rest(C);
    for (int64_t b = begin; b < end; ++b) {
      const T *xb = x + b * s.I * C, *tb = t + group[b] * s.J * C, *gb = gout + b * s.O * C;
      T *gxb = gx + b * s.I * C;
      for (int64_t j = 0; j < s.J; ++j) {
        const int64_t *row = en.index.data() + j * en.width;
        const T *tj = tb + j * C, *go = gb + row[0] * C;
        for (int64_t c = 0; c < C; ++c) tg[c] = tj[c] * go[c];
        int64_t nu = 0;
        while (nu + 1 < en.width && row[nu + 1] >= 0) ++nu;
        for (int64_t m = 1; m <= nu; ++m) {
          for (int64_t c = 0; c < C; ++c) rest[c] = tg[c];
          for (int64_t q = 1; q <= nu; ++q) {
            if (q == m) continue;
            const T *xq = xb + row[q] * C;
            for (int64_t c = 0; c < C; ++c) rest[c] *= xq[c];
          }
          T *gi = gxb + row[m] * C;
          for (int64_t c = 0; c < C; ++c) gi[c] += rest[c];
        }
      }
    }
  });
}

Tensor contraction_forward(const Tensor &x_in, const Tensor &group_in, const Tensor &t_in,
                           const Tensor &entry_index, int64_t num_out)
{
  const Shapes s = check_inputs(x_in, group_in, t_in, num_out);
  auto x = x_in.contiguous(), t = t_in.contiguous();
  const auto en = read_entries(entry_index, s.I, s.O);
  TORCH_CHECK(en.size() == s.J, "symmetric_contraction: coefficients and entry_index disagree on J");
  const auto group = read_groups(group_in, s.G);
  auto out = torch::zeros({s.N, s.O, s.C}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "symmetric_contraction", [&] {
    forward_kernel<scalar_t>(x.data_ptr<scalar_t>(), group, t.data_ptr<scalar_t>(), en, s,
                             out.data_ptr<scalar_t>());
  });
  return out;
}

/* First derivatives in x only: the coefficients are the model's constants and the
   groups are integers. */
class SymmetricContraction : public torch::autograd::Function<SymmetricContraction> {
 public:
  static Tensor forward(torch::autograd::AutogradContext *ctx, const Tensor &x,
                        const Tensor &group, const Tensor &t, const Tensor &entry_index,
                        int64_t num_out)
  {
    TORCH_CHECK(!t.requires_grad(), "symmetric_contraction: no gradient for the coefficients; "
                "they are the model's constants");
    ctx->save_for_backward({x, group, t, entry_index});
    return contraction_forward(x, group, t, entry_index, num_out);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grad)
  {
    auto v = ctx->get_saved_variables();
    auto x = v[0].contiguous(), t = v[2].contiguous(), gout = grad[0].contiguous();
    const Shapes s = check_inputs(x, v[1], t, gout.size(1));
    const auto en = read_entries(v[3], s.I, s.O);
    const auto group = read_groups(v[1], s.G);
    auto gx = torch::zeros_like(x);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "symmetric_contraction_backward", [&] {
      backward_kernel<scalar_t>(x.data_ptr<scalar_t>(), group, t.data_ptr<scalar_t>(), en,
                                gout.data_ptr<scalar_t>(), s, gx.data_ptr<scalar_t>());
    });
    return {gx, Tensor(), Tensor(), Tensor(), Tensor()};
  }
};

Tensor contraction_autograd(const Tensor &x, const Tensor &group, const Tensor &t,
                            const Tensor &entry_index, int64_t num_out)
{
  return SymmetricContraction::apply(x, group, t, entry_index, num_out);
}

}    // namespace

TORCH_LIBRARY_FRAGMENT(ionmd, m)
{
  m.def("symmetric_contraction(Tensor x, Tensor group, Tensor coefficients, Tensor entry_index, "
        "int num_out) -> Tensor");
}

TORCH_LIBRARY_IMPL(ionmd, CPU, m) { m.impl("symmetric_contraction", contraction_forward); }

TORCH_LIBRARY_IMPL(ionmd, Autograd, m) { m.impl("symmetric_contraction", contraction_autograd); }
