/* ionmd: pair_style ionmd's check of special_bonds weights (the plain style's at init_style,
   hybrid's at the first force call): the model takes every pair within its cutoff at full
   weight, so bonded pairs weighted otherwise, or left out of the lists, are refused. */

#include "pair_ionmd.h"

#include "atom.h"
#include "domain.h"
#include "error.h"
#include "fix.h"
#include "force.h"
#include "modify.h"
#include "neigh_list.h"
#include "neighbor.h"
#include "utils.h"

#include <algorithm>
#include <string>
#include <vector>

using namespace LAMMPS_NS;

// Why bonded pairs are special for this system: the atoms' special lists (1-2, 1-3, 1-4
// neighbours), which decide what LAMMPS weights or leaves out, or the fix that may create
// such pairs during the run; empty where there are none. The bond counts do not say it:
// 'delete_bonds ... remove' without 'special' keeps the lists, so LAMMPS still drops the
// deleted bonds' pairs (8-atom LiCl, 3 bonds deleted, default weights: pe -13.63445 eV with
// 436 neighbours within 6 A for the unweighted -14.36210 eV and 448). Collective.
std::string PairIonmd::special_pairs_source()
{
  if (atom->molecular == Atom::ATOMIC) return "";
  const bool counted = atom->nbonds > 0 || atom->nangles > 0 || atom->ndihedrals > 0;
  // a molecule-template system keeps its special lists in the templates: its counts decide
  if (atom->molecular == Atom::TEMPLATE)
    return counted ? fmt::format("{} bond(s)", atom->nbonds) : bond_creating_fix();
  bigint mine = 0, listed = 0;
  if (atom->nspecial)
    for (int i = 0; i < atom->nlocal; ++i)
      if (atom->nspecial[i][2] > 0) ++mine;
  MPI_Allreduce(&mine, &listed, 1, MPI_LMP_BIGINT, MPI_SUM, world);
  if (listed > 0) {
    if (counted) return fmt::format("{} bond(s)", atom->nbonds);
    return fmt::format("{} atom(s) with 1-2, 1-3 or 1-4 neighbours in their special lists "
                       "though the system has no bonds: bonds deleted without rebuilding the "
                       "lists ('delete_bonds ... remove' without 'special') still mark their "
                       "pairs", listed);
  }
  return bond_creating_fix();
}

// Fixes that can give bonded pairs to atoms during the run: bond/create and bond/react
// make bonds, bond/swap exchanges them (other pairs become 1-2, 1-3, 1-4 neighbours), and
// deposit, pour, gcmc and widom insert molecules of a template with their bonds. A fix's
// 'mol' keyword is not visible from here, so those four count wherever a molecule template
// exists. Bonds made after the check would meet weights never checked.
std::string PairIonmd::bond_creating_fix()
{
  if (atom->molecular == Atom::ATOMIC) return "";
  for (const auto *fix : modify->get_fix_list()) {
    if (utils::strmatch(fix->style, "^bond/create") || utils::strmatch(fix->style, "^bond/react"))
      return fmt::format("fix {} ({}) creates bonds during the run", fix->id, fix->style);
    if (utils::strmatch(fix->style, "^bond/swap"))
      return fmt::format("fix {} ({}) changes bonds during the run", fix->id, fix->style);
    if (atom->nmolecule > 0 && (utils::strmatch(fix->style, "^deposit") ||
                                utils::strmatch(fix->style, "^pour") ||
                                utils::strmatch(fix->style, "^gcmc") ||
                                utils::strmatch(fix->style, "^widom")))
      return fmt::format("fix {} ({}) can insert bonded molecules of a molecule template "
                         "during the run", fix->id, fix->style);
  }
  return "";
}

// The plain style: every pair is the model's, so every special level must have lj 1 (the
// global weights are the ones LAMMPS applies to it). Checked at init; the global weights
// are kept to tell a hybrid sub-style's own (pair_modify pair ionmd special) from them.
void PairIonmd::check_special_bonds()
{
  std::copy(force->special_lj, force->special_lj + 4, special_lj_global);
  if (force->pair != this) return;    // hybrid: at the first force call (check_hybrid_special_pairs)
  const std::string source = special_pairs_source();
  if (source.empty()) return;
  const bigint any[4] = {0, -1, -1, -1};
  const std::string refusal = special_weights_refusal(any, source);
  if (!refusal.empty()) error->all(FLERR, "{}", refusal);
}

// Under pair_style hybrid only the model's own bonded pairs matter (bonds among another
// sub-style's atom types leave its graph alone), and the weights LAMMPS applies to them are
// those hybrid puts into force->special_lj for this sub-style's compute: its own 'pair_modify
// pair ionmd special' where given, else the global ones. So this runs at the first force call
// after each init, on the list LAMMPS built: pairs it keeps carry their level in the special
// bits; pairs of lj and coul weights 0 it leaves out (Neighbor::special_flag 0) are found from
// each atom's special list. Bonds a fix creates later are unknown: then every level counts.
void PairIonmd::check_hybrid_special_pairs()
{
  const std::string source = special_pairs_source();
  if (source.empty()) return;
  bigint found[4] = {0, 0, 0, 0};
  if (!bond_creating_fix().empty()) {
    found[1] = found[2] = found[3] = -1;
  } else {
    bigint local[4] = {0, 0, 0, 0};
    count_special_pairs(local);
    MPI_Allreduce(local, found, 4, MPI_LMP_BIGINT, MPI_SUM, world);
  }
  const std::string refusal = special_weights_refusal(found, source);
  if (!refusal.empty()) error->all(FLERR, "{}", refusal);
}

// The model's bonded pairs within its cutoff, per level (1: 1-2, 2: 1-3, 3: 1-4), each pair
// once (counted from its atom of the lower ID).
void PairIonmd::count_special_pairs(bigint found[4])
{
  const double cutsq = cutoff * cutoff;
  const double *const *x = atom->x;
  const int *type = atom->type;
  const tagint *tag = atom->tag;
  auto within = [&](int i, int j) {
    const double dx = x[i][0] - x[j][0], dy = x[i][1] - x[j][1], dz = x[i][2] - x[j][2];
    return dx * dx + dy * dy + dz * dz < cutsq;
  };
  for (int ii = 0; ii < list->inum; ++ii) {    // kept pairs: special bits in the list
    const int i = list->ilist[ii];
    const int *jlist = list->firstneigh[i];
    for (int jj = 0; jj < list->numneigh[i]; ++jj) {
      const int level = sbmask(jlist[jj]);
      const int j = jlist[jj] & NEIGHMASK;
      if (level > 0 && tag[i] < tag[j] && within(i, j)) ++found[level];
    }
  }
  if (!atom->nspecial) return;
  for (int i = 0; i < atom->nlocal; ++i) {    // left-out pairs: in no list, so from the atoms
    if (type2species[type[i]] < 0) continue;
    const int *count = atom->nspecial[i];
    for (int s = 0; s < count[2]; ++s) {
      const int level = s < count[0] ? 1 : s < count[1] ? 2 : 3;
      if (neighbor->special_flag[level] != 0 || tag[i] >= atom->special[i][s]) continue;
      int j = atom->map(atom->special[i][s]);
      if (j < 0) continue;    // not even a ghost here: farther than any cutoff
      j = domain->closest_image(i, j);
      const bool models = type2species[type[j]] >= 0 &&
                          !(list->ijskip && list->ijskip[type[i]][type[j]]);
      if (models && within(i, j)) ++found[level];
    }
  }
}

// The one rule for special_bonds weights (the plain style's and hybrid's): LAMMPS weights a
// non-Coulomb style's bonded 1-2, 1-3, 1-4 pairs by the lj weight in force->special_lj when
// it runs (coul belongs to Coulomb styles). LAMMPS leaves a bonded pair out of the lists only
// where its global lj and coul weights are both 0 and no kspace style needs it; otherwise the
// pair stays, marked by special bits that the graph strips (NEIGHMASK). The model takes every
// pair within its cutoff at full weight and cannot leave one out, nor see one LAMMPS left out:
// only lj 1 gives it what the input asks. found[k]: the model's 1-(k+1) pairs (< 0: not
// known, every level counts). Empty where the weights are fine, else the error's text.
std::string PairIonmd::special_weights_refusal(const bigint found[4],
                                               const std::string &source) const
{
  const double *lj = force->special_lj, *coul = force->special_coul;
  std::vector<int> levels;
  for (int k = 1; k <= 3; ++k)
    if (found[k] != 0 && lj[k] != 1.0) levels.push_back(k);
  if (levels.empty()) return "";
  if (force->pair == this)
    return fmt::format("pair_style ionmd: the model cannot apply special_bonds weights; every "
                       "pair within the cutoff counts fully, but the lj weights of bonded "
                       "neighbours are {} {} {} (coul {} {} {}; {}): use 'special_bonds lj 1.0 "
                       "1.0 1.0' (coul may be anything for the model; add 'special_bonds lj/coul "
                       "1.0 1.0 1.0' where no Coulomb style uses them)",
                       lj[1], lj[2], lj[3], coul[1], coul[2], coul[3], source);
  std::vector<std::string> pairs;
  for (int k : levels)
    pairs.push_back(found[k] > 0 ? fmt::format("{} bonded 1-{} pair(s) of its atom types within "
                                               "{} A", found[k], k + 1, cutoff)
                                 : fmt::format("1-{} pairs", k + 1));
  const std::string counted = utils::join_words(pairs, ", ");
  for (int k : levels)
    if (neighbor->special_flag[k] == 0)
      return fmt::format("pair_style ionmd needs every neighbour, but the special_bonds weights "
                         "of 1-{} neighbours are 0 (lj {} {} {}, coul {} {} {}; {}; {}): under "
                         "pair_style {} those pairs are left out of every sub-style's neighbour "
                         "list, the model's graph too; add 'special_bonds lj/coul 1.0 1.0 1.0', "
                         "or, where another sub-style needs other weights, weights that are "
                         "neither 0 nor 1 with 'pair_modify pair ionmd special lj 1.0 1.0 1.0' "
                         "(the model cannot weigh a pair: it takes each at full weight)",
                         k + 1, lj[1], lj[2], lj[3], coul[1], coul[2], coul[3], counted, source,
                         force->pair_style);
  // LAMMPS takes a sub-style weight of its own only where the global one is neither 0 nor 1
  bool own = false, overridable = true;
  for (int k = 1; k <= 3; ++k) own = own || lj[k] != special_lj_global[k];
  for (int k : levels) overridable = overridable && special_lj_global[k] != 0.0;
  const std::string override_fix = "'pair_modify pair ionmd special lj 1.0 1.0 1.0' (the "
                                   "special_bonds weights still serve the other sub-styles)";
  return fmt::format("pair_style ionmd: the model cannot apply special_bonds weights; under "
                     "pair_style {} LAMMPS weights ionmd's bonded neighbours by lj {} {} {} ({}), "
                     "but the model takes every pair within its cutoff at full weight ({}; {}): "
                     "{}", force->pair_style, lj[1], lj[2], lj[3],
                     own ? "its own, from 'pair_modify pair ionmd special'"
                         : fmt::format("the special_bonds weights; coul {} {} {}", coul[1],
                                       coul[2], coul[3]),
                     counted, source,
                     overridable
                         ? "give ionmd lj weights 1 with " + override_fix + ", or use "
                           "'special_bonds lj 1.0 1.0 1.0' (coul may be anything for the model)"
                         : "use 'special_bonds lj 1.0 1.0 1.0' (coul may be anything for the "
                           "model; LAMMPS gives a sub-style no weight of its own where the global "
                           "one is 0), or, where another sub-style needs lj weights below 1, "
                           "global weights above 0 and " + override_fix);
}
