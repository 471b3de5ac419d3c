/* ionmd: the one entry point that turns a model file into an IonmdModel.

   Both formats are zip archives written by torch; an AOTInductor package has an
   `archive_format` record ("pt2"), a TorchScript archive has none. Reading the
   central directory first also turns a truncated or corrupted file into one clear
   message instead of a deep torch backtrace. */

#include "ionmd_model_torch.h"

#include <caffe2/serialize/inline_container.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sys/stat.h>

#ifdef IONMD_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace IONMD {

namespace {

enum class FileFormat { TorchScript, Aoti };

// The TorchScript files SevenNet and MACE write for their own LAMMPS pair styles load as
// TorchScript but carry none of ionmd's metadata and take other inputs: say what the file
// is and where to start instead of "not written by `ionmd export`".
void refuse_other_lammps_exports(caffe2::serialize::PyTorchStreamReader &reader,
                                 const std::string &path)
{
  if (reader.hasRecord("extra/ionmd/metadata")) return;
  // sevenn_get_model (sevenn.scripts.deploy): extra files chemical_symbols_to_index, cutoff, ...
  if (reader.hasRecord("extra/chemical_symbols_to_index") && reader.hasRecord("extra/model_type"))
    throw IonmdError("model file " + path + " is a SevenNet model deployed for SevenNet's own "
                    "'pair_style e3gnn' (sevenn_get_model), not an ionmd model file; `ionmd "
                    "export sevennet` needs the original checkpoint (checkpoint_best.pth, or a "
                    "pretrained name such as 7net-0): `ionmd export sevennet CHECKPOINT.pth -o "
                    "model.pt`");
  // mace.cli.create_lammps_model: the LAMMPS_MACE wrapper for MACE's 'pair_style mace'
  if (reader.hasRecord("code/__torch__/mace/calculators/lammps_mace.py"))
    throw IonmdError("model file " + path + " is a MACE model converted for MACE's own "
                    "'pair_style mace' (create_lammps_model), not an ionmd model file; `ionmd "
                    "export mace` needs the original MACE model (the .model file training "
                    "wrote): `ionmd export mace FILE.model -o model.pt`");
}

FileFormat detect_format(const std::string &path)
{
  // a directory opens as a stream that reads nothing: it would be called "not a zip archive"
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw IonmdError("model file " + path + " is a directory, not a model file: give the path "
                    "of the file `ionmd export ... -o FILE` wrote");
  std::ifstream probe(path, std::ios::binary);
  if (!probe.good())
    throw IonmdError("model file " + path + " does not exist or cannot be read; export one with "
                    "`ionmd export sevennet|mace|esen ... -o FILE`");
  char magic[2] = {0, 0};
  probe.read(magic, 2);
  if (magic[0] != 'P' || magic[1] != 'K')
    throw IonmdError("model file " + path + " is not an ionmd model file (not a zip archive): "
                    "export the model with `ionmd export`");
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    // torch.save writes the same zip layout as TorchScript, without its constants and code:
    // the training checkpoint a user has before exporting (torch could only call it corrupted)
    if (!reader.hasRecord("archive_format") && !reader.hasRecord("constants.pkl") &&
        reader.hasRecord("data.pkl"))
      throw IonmdError("model file " + path + " is a PyTorch checkpoint (torch.save: a training "
                      "checkpoint such as SevenNet's checkpoint_best.pth, a MACE .model or a "
                      "fairchem eSEN checkpoint), not an exported model; export it first: `ionmd "
                      "export sevennet|mace|esen " + path + " -o model.pt` (.pt2 for esen)");
    if (!reader.hasRecord("archive_format")) {
      refuse_other_lammps_exports(reader, path);
      return FileFormat::TorchScript;
    }
    auto [data, size] = reader.getRecord("archive_format");
    std::string kind(static_cast<const char *>(data.get()), size);
    if (kind.rfind("pt2", 0) == 0) return FileFormat::Aoti;
    throw IonmdError("model file " + path + " is a torch archive of unknown kind '" + kind + "'");
  } catch (const c10::Error &e) {
    throw IonmdError("model file " + path + " is corrupted or truncated (" +
                    e.what_without_backtrace() + "); export it again with `ionmd export`");
  }
}

}    // namespace

double cuda_peak_allocated_mib(torch::Device device)
{
#ifdef IONMD_WITH_CUDA
  if (device.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
    return (double) stats.allocated_bytes[0].peak / (1024.0 * 1024.0);   // [0] = aggregate
  }
#endif
  return -1.0;
}

double cuda_allocated_bytes(torch::Device device)
{
#ifdef IONMD_WITH_CUDA
  if (device.is_cuda())
    return (double) c10::cuda::CUDACachingAllocator::getDeviceStats(device.index())
        .allocated_bytes[0].current;
#endif
  return -1.0;
}

double cuda_available_bytes(torch::Device device)
{
#ifdef IONMD_WITH_CUDA
  if (device.is_cuda()) {
    auto *alloc = c10::cuda::CUDACachingAllocator::get();
    const auto stats = alloc->getDeviceStats(device.index());
    const double cached = (double) stats.reserved_bytes[0].current -
        (double) stats.allocated_bytes[0].current;
    return (double) alloc->getMemoryInfo(device.index()).first + std::max(0.0, cached);
  }
#endif
  return -1.0;
}

void cuda_reset_peak(torch::Device device)
{
#ifdef IONMD_WITH_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
#endif
}

// MD graphs change size every step; torch's default CUDA allocator then fragments
// (measured on an H200: 100 GB reserved for 4096 atoms of SevenNet-0 whose tensors need
// far less). Expandable segments avoid that. A user's own setting wins.
static void default_cuda_allocator_settings()
{
  setenv("PYTORCH_CUDA_ALLOC_CONF", "expandable_segments:True", 0);
}

// The N of "cuda:N", or -1 when the request is not of that form (digits only after "cuda:").
static int cuda_index(const std::string &request)
{
  if (request.rfind("cuda:", 0) != 0 || request.size() == 5 || request.size() > 9) return -1;
  for (size_t i = 5; i < request.size(); ++i)
    if (request[i] < '0' || request[i] > '9') return -1;
  return std::stoi(request.substr(5));
}

torch::Device pick_device(const std::string &request, int local_rank)
{
  // the name first: a misspelt device is that, whatever this build can see
  const int idx = cuda_index(request);
  if (request != "auto" && request != "cpu" && request != "cuda" && idx < 0)
    throw IonmdError("unknown device '" + request + "': use auto, cpu, cuda or cuda:N");
  const bool have_cuda = torch::cuda::is_available();
  if (request == "cpu") return torch::Device(torch::kCPU);
  if (request == "auto" && !have_cuda) return torch::Device(torch::kCPU);
  if (!have_cuda)
    throw IonmdError("device '" + request + "' requested but this torch build sees no CUDA device");
  const int ngpu = (int) torch::cuda::device_count();
  default_cuda_allocator_settings();   // before the first CUDA allocation
  if (request == "auto" || request == "cuda")
    return torch::Device(torch::kCUDA, (c10::DeviceIndex) (local_rank % ngpu));
  if (idx >= ngpu)
    throw IonmdError("device '" + request + "' does not exist (" + std::to_string(ngpu) +
                     " CUDA devices visible)");
  return torch::Device(torch::kCUDA, (c10::DeviceIndex) idx);
}

std::string shape_str(const torch::Tensor &t)
{
  std::string s = "[";
  for (int64_t d = 0; d < t.dim(); ++d) s += (d ? "," : "") + std::to_string(t.size(d));
  return s + "]";
}

GraphTensors graph_tensors(const IonmdGraph &g, torch::Device device, torch::Dtype dtype)
{
  const int64_t ne = g.nedges(), nn = g.nnodes();
  auto i64 = torch::TensorOptions().dtype(torch::kInt64);
  auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  GraphTensors t;
  // from_blob does not copy; .to(..., copy=true) always does, so the tensor that may
  // get a gradient never aliases the caller's buffer.
  t.edge_vec = torch::from_blob((void *) g.edge_vec.data(), {ne, 3}, f64)
                   .to(device, dtype, false, true);
  t.edge_index = torch::stack({torch::from_blob((void *) g.edge_i.data(), {ne}, i64),
                               torch::from_blob((void *) g.edge_j.data(), {ne}, i64)})
                     .to(device);
  t.species = torch::from_blob((void *) g.species.data(), {nn}, i64).to(device, false, true);
  return t;
}

void store_atom_energy(const torch::Tensor &atom_e, int nlocal, IonmdResult &res)
{
  auto e64 = atom_e.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  res.atom_energy.assign(e64.data_ptr<double>(), e64.data_ptr<double>() + nlocal);
}

void store_edge_grad(const torch::Tensor &grad, int64_t nedges, IonmdResult &res)
{
  res.edge_grad.assign(3 * nedges, 0.0);
  if (nedges == 0 || !grad.defined()) return;
  auto g64 = grad.detach().slice(0, 0, nedges).to(torch::kCPU, torch::kFloat64).contiguous();
  std::memcpy(res.edge_grad.data(), g64.data_ptr<double>(), sizeof(double) * 3 * nedges);
}

void set_intraop_threads(int n)
{
  torch::set_num_threads(n);
}

int intraop_threads()
{
  return torch::get_num_threads();
}

std::unique_ptr<IonmdModel> IonmdModel::load(const char *path_c, const char *device_c,
                                           int local_rank)
{
  const std::string path(path_c), device(device_c);
  // Flush subnormal floats to zero: smooth cutoff envelopes produce values like
  // (1 - r/rc)^6 ~ 1e-40 for an edge just inside the cutoff, and float32 arithmetic on
  // subnormals is ~100x slower on x86. Seen here as a 50x slower MD step whenever a pair
  // sat at the cutoff; the energies change by far less than float32 round-off.
  at::globalContext().setFlushDenormal(true);
  const bool aoti = detect_format(path) == FileFormat::Aoti;
  auto load_file = [&]() {
    return aoti ? load_aoti_model(path, device, local_rank)
                : load_torchscript_model(path, device, local_rank);
  };
  try {
    return load_file();
  } catch (const IonmdError &e) {
    // a file exported with kernel-library operators: load the libraries, read it again
    if (!needs_kernel_libraries(e.what()) || !load_kernel_libraries()) throw;
  }
  return load_file();
}

}    // namespace IONMD
