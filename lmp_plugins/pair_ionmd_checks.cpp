/* ionmd: pair_style ionmd's checks of the input (init_style and the first force call of a
   run): inputs that LAMMPS accepts but that would give this pair style's atoms another
   material, a wrong observable or an error that does not say why. Each refusal says what
   is wrong, why, and what to do instead. The special_bonds weights are checked in
   pair_ionmd_special_bonds.cpp, the model's output in pair_ionmd_output_checks.cpp. */

#include "pair_ionmd.h"

#include "ionmd_elements.h"

#include "atom.h"
#include "comm.h"
#include "compute.h"
#include "domain.h"
#include "error.h"
#include "fix.h"
#include "force.h"
#include "group.h"
#include "input.h"
#include "modify.h"
#include "neigh_list.h"
#include "neighbor.h"
#include "utils.h"
#include "variable.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace LAMMPS_NS;

namespace {
// Per-type masses against the standard atomic weights of the pair_coeff elements
// (check_masses). Masses rounded as people write them (Li 7, Cl 35.5, S 32) are within 1 %
// of the standard weight, and the elements an electrolyte's types are confused with
// mostly differ by far more (Li/Cl 5x, Li/S 4.6x, Y/Cl 2.5x), so a mass more than
// MASS_MISMATCH off is flagged. Isotopes and mass-scaled hydrogen are legitimate (D +100 %,
// 6Li -13 %, 18O +12 %): a warning, not an error. Elements whose weights lie within 10 % of
// each other (P/S, Co/Ni, Ar/K/Ca) cannot be told apart by mass and are not flagged.
constexpr double MASS_MISMATCH = 0.10;
// a mass within this of another pair_coeff element's standard weight is taken for that
// element (a likely swap of the elements' order): rounding stays well inside it
constexpr double MASS_MATCH = 0.02;
}    // namespace

// comm_style tiled holds one image of each atom only: it stops at the first step when the
// ghost cutoff exceeds a periodic box width, blaming a "communication cutoff" the input
// never set where this style raised it (the redundant shell of layers x cutoff: 8-atom
// LiCl, 5.14 A, on 2 ranks of a model file without stages). Say why and what to do.
void PairIonmd::check_tiled_reach(IonmdGraphBuilder::Mode mode)
{
  if (comm->style != Comm::TILED) return;
  const bool redundant = mode == IonmdGraphBuilder::GHOSTS;
  const double reach = (redundant ? meta.num_layers * cutoff : cutoff) + neighbor->skin;
  const double *h_inv = domain->h_inv;
  const double per_angstrom[3] = {
      sqrt(h_inv[0] * h_inv[0] + h_inv[5] * h_inv[5] + h_inv[4] * h_inv[4]),
      sqrt(h_inv[1] * h_inv[1] + h_inv[3] * h_inv[3]), h_inv[2]};
  double narrowest = HUGE_VAL;
  for (int d = 0; d < 3; ++d)
    if (domain->periodicity[d])
      narrowest = std::min(narrowest, domain->triclinic ? 1.0 / per_angstrom[d] : domain->prd[d]);
  const bool halo_fits = meta.halo_stages > 0 && cutoff + neighbor->skin <= narrowest;
  for (int d = 0; d < 3; ++d) {
    if (!domain->periodicity[d]) continue;
    const double width = domain->triclinic ? 1.0 / per_angstrom[d] : domain->prd[d];
    if (reach <= width) continue;
    error->all(FLERR, "pair_style ionmd needs the atoms within {:.3f} A of each subdomain ({}), "
               "more than the periodic box is wide along {} ({:.3f} A); comm_style tiled cannot "
               "hold several images of one atom: use comm_style brick (the default){}, or a "
               "larger cell (replicate)", reach,
               redundant ? fmt::format("a redundant ghost shell of {} layers x {} A cutoff + {} A "
                                       "skin", meta.num_layers, cutoff, neighbor->skin)
                         : fmt::format("{} A cutoff + {} A skin", cutoff, neighbor->skin),
               "xyz"[d], width,
               redundant && halo_fits ? ", 'ghost halo' (a shell of one cutoff)" : "");
  }
}

// A data file's type labels (`Atom Type Labels`, `labelmap`) that are element symbols
// say which element each type is, as exactly as the input can: a pair_coeff that maps such
// a type to another element gives these atoms the wrong element's energies and forces
// without any error (the mass check cannot tell P from S or Co from Ni). LAMMPS has no
// label lookup by type in its headers, so each symbol is asked through its variables.
void PairIonmd::check_type_labels()
{
  if (!atom->labelmapflag || (int) type2species.size() != atom->ntypes + 1) return;
  std::vector<std::string> contradictions;
  std::string suggested = force->pair == this ? "pair_coeff * *" : "pair_coeff * * ionmd";
  std::vector<std::string> labelled(atom->ntypes + 1);
  for (const auto &symbol : IONMD::element_symbols()) {
    if (input->variable->compute_equal(fmt::format("is_typelabel(atom,{})", symbol)) == 0.0)
      continue;
    const int t = (int) input->variable->compute_equal(fmt::format("label2type(atom,{})", symbol));
    if (t < 1 || t > atom->ntypes) continue;
    labelled[t] = symbol;
    if (type2species[t] >= 0 && meta.elements[type2species[t]] != symbol)
      contradictions.push_back(fmt::format("type {} is labelled {} but pair_coeff makes it {}", t,
                                           symbol, meta.elements[type2species[t]]));
  }
  if (contradictions.empty()) return;
  for (int t = 1; t <= atom->ntypes; ++t)
    suggested += " " + (type2species[t] < 0 ? std::string("NULL")
                        : !labelled[t].empty() ? labelled[t] : meta.elements[type2species[t]]);
  error->all(FLERR,
             "pair_style ionmd: the atom type labels contradict pair_coeff: {}. The elements in "
             "pair_coeff go in the order of the atom types; with these labels the line is '{}' "
             "(or change the labels with the labelmap command if they are wrong)",
             utils::join_words(contradictions, "; "), suggested);
}

// The per-type masses are the one place where an input says which element an atom type
// is: a data file whose types are Cl, Li read with `pair_coeff * * Li Cl` runs without
// any error, with the physics of the swapped elements. Each type whose mass is more than
// MASS_MISMATCH off the standard atomic weight of its pair_coeff element is named (once
// for a given set of masses and elements, not again at every run), more strongly where
// the mass is that of another element of the same pair_coeff line. Per-atom masses
// (atom_style sphere, ...) and NULL types are not checked.
void PairIonmd::check_masses()
{
  const int ntypes = atom->ntypes;
  if (atom->rmass_flag || !atom->mass || !atom->mass_setflag ||
      (int) type2species.size() != ntypes + 1)
    return;
  const auto &elements = meta.elements;
  auto element_of = [&](int t) { return elements[type2species[t]]; };
  auto checked = [&](int t) { return type2species[t] >= 0 && atom->mass_setflag[t]; };
  std::string signature;
  for (int t = 1; t <= ntypes; ++t)
    if (checked(t))
      signature += fmt::format("{}:{:.17g}:{} ", t, atom->mass[t], element_of(t));
  if (signature == masses_checked) return;
  masses_checked = signature;
  if (comm->me != 0) return;

  std::vector<std::string> given;    // the pair_coeff elements, each once
  for (int t = 1; t <= ntypes; ++t)
    if (type2species[t] >= 0 && std::find(given.begin(), given.end(), element_of(t)) == given.end())
      given.push_back(element_of(t));
  // per type: the element its mass is off from, and the other pair_coeff element it matches
  std::vector<std::string> matches(ntypes + 1);
  std::vector<int> off;
  for (int t = 1; t <= ntypes; ++t) {
    if (!checked(t)) continue;
    const double standard = IONMD::standard_atomic_weight(element_of(t));
    if (standard <= 0.0 || std::fabs(atom->mass[t] - standard) <= MASS_MISMATCH * standard)
      continue;
    off.push_back(t);
    for (const auto &other : given) {
      const double w = IONMD::standard_atomic_weight(other);
      if (other != element_of(t) && w > 0.0 && std::fabs(atom->mass[t] - w) <= MASS_MATCH * w)
        matches[t] = other;
    }
  }
  if (off.empty()) return;
  const std::string head = force->pair == this ? "pair_coeff * *" : "pair_coeff * * ionmd";
  std::string written = head, suggested = head;
  bool all_matched = true;
  for (int t = 1; t <= ntypes; ++t) {
    const std::string el = type2species[t] >= 0 ? element_of(t) : std::string("NULL");
    written += " " + el;
    suggested += " " + (matches[t].empty() ? el : matches[t]);
  }
  for (int t : off) all_matched = all_matched && !matches[t].empty();
  for (int t : off) {
    const std::string el = element_of(t);
    const double m = atom->mass[t], standard = IONMD::standard_atomic_weight(el);
    if (!matches[t].empty()) {
      const std::string fix = all_matched
          ? fmt::format("If the masses are right, the line is '{}'.", suggested)
          : std::string("Give each type its element in pair_coeff.");
      error->warning(FLERR,
                     "pair_style ionmd: elements probably swapped: atom type {} has mass {:g}, the "
                     "standard atomic weight of {} ({:g}), but '{}' makes it {} (standard weight "
                     "{:g}): the elements in pair_coeff are probably not in the order of the atom "
                     "types (the Masses of the data file), and these atoms get the energies and "
                     "forces of {}. {}",
                     t, m, matches[t], IONMD::standard_atomic_weight(matches[t]), written, el,
                     standard, el, fix);
    } else {
      double rel = 0.0;
      const std::string near = IONMD::closest_element(m, &rel);
      error->warning(FLERR,
                     "pair_style ionmd: atom type {} ({} in pair_coeff) has mass {:g}, {:.0f} % "
                     "off the standard atomic weight of {} ({:g}){}; fine for an isotope (e.g. "
                     "deuterium) or a deliberately scaled mass, otherwise check that the elements "
                     "in '{}' follow the atom types of the data file (its Masses)",
                     t, el, m, 100.0 * std::fabs(m - standard) / standard, el, standard,
                     near != el && rel <= MASS_MATCH
                         ? fmt::format("; it is the weight of {} ({:g})", near,
                                       IONMD::standard_atomic_weight(near))
                         : std::string(),
                     written);
    }
  }
}

// neigh_modify exclude takes pairs out of every neighbour list, the model's too (and
// neigh_modify include leaves atoms outside its group without any): a
// many-body model then sees some neighbours as absent and computes another material
// (for a pair potential, excluding pairs of atoms held still costs nothing; here it
// changes the energy of every atom near them). Refused where an exclusion can touch
// two atoms of this style's types.
void PairIonmd::check_neighbor_exclusions()
{
  if ((int) type2species.size() != atom->ntypes + 1) return;
  const std::string fix = "remove the exclusion ('neigh_modify exclude none'); atoms to hold "
                          "still can be left out of the time-integration fix's group, or given "
                          "'fix setforce 0 0 0'";
  for (int k = 0; k < neighbor->nex_type; ++k) {
    const int a = neighbor->ex1_type[k], b = neighbor->ex2_type[k];
    if (type2species[a] >= 0 && type2species[b] >= 0)
      error->all(FLERR, "pair_style ionmd needs every neighbour, but 'neigh_modify exclude type "
                 "{} {}' takes the pairs of those atom types out of its neighbour list: the model "
                 "would compute the energy of another material; {}", a, b, fix);
  }
  // groups: whether any atom of this style's types is in them
  auto in_group = [&](int bit) {
    int mine = 0, any = 0;
    for (int i = 0; i < atom->nlocal && !mine; ++i)
      mine = (atom->mask[i] & bit) && type2species[atom->type[i]] >= 0;
    MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, world);
    return any != 0;
  };
  for (int k = 0; k < neighbor->nex_group; ++k)
    if (in_group(group->bitmask[neighbor->ex1_group[k]]) &&
        in_group(group->bitmask[neighbor->ex2_group[k]]))
      error->all(FLERR, "pair_style ionmd needs every neighbour, but 'neigh_modify exclude group "
                 "{} {}' takes pairs of its atoms out of its neighbour list: the model would "
                 "compute the energy of another material; {}", group->names[neighbor->ex1_group[k]],
                 group->names[neighbor->ex2_group[k]], fix);
  // neigh_modify include: atoms outside the group get no neighbours (their energies and
  // the forces from them are lost)
  if (neighbor->includegroup) {
    const int bit = group->bitmask[neighbor->includegroup];
    int mine = 0, any = 0;
    for (int i = 0; i < atom->nlocal && !mine; ++i)
      mine = !(atom->mask[i] & bit) && type2species[atom->type[i]] >= 0;
    MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, world);
    if (any)
      error->all(FLERR, "pair_style ionmd needs every neighbour, but 'neigh_modify include {}' "
                 "leaves the atoms outside that group without neighbours: the model would miss "
                 "their energies and forces; use 'neigh_modify include all'",
                 group->names[neighbor->includegroup]);
  }
  for (int k = 0; k < neighbor->nex_mol; ++k)
    if (in_group(group->bitmask[neighbor->ex_mol_group[k]]))
      error->all(FLERR, "pair_style ionmd needs every neighbour, but 'neigh_modify exclude "
                 "molecule/{} {}' takes pairs of its atoms out of its neighbour list: the model "
                 "would compute the energy of another material; {}",
                 neighbor->ex_mol_intra[k] ? "intra" : "inter",
                 group->names[neighbor->ex_mol_group[k]], fix);
}

// Under pair_style hybrid (not hybrid/overlay) a pair_coeff of another sub-style for
// types that ionmd's `pair_coeff * *` maps hands those type pairs to that style alone (and
// `pair_coeff I J none` to no style, under either hybrid): LAMMPS then leaves them out of
// ionmd's neighbour list, and the model computes a material
// without those neighbours, with no error (64-atom LiCl with `pair_coeff 1 1 zbl 17 17`
// after `pair_coeff * * ionmd Cl Li`: 547.44 eV for the model's 557.79, the Cl-Cl pairs
// gone from every environment). The skip flags of the list say it exactly; LAMMPS copies
// them into the list after init_list(), and rerun calls no setup(), so the first force call
// after each init checks them (every rank: the flags are the same on all).
void PairIonmd::check_hybrid_skipped_pairs()
{
  if (!list || !list->ijskip || (int) type2species.size() != atom->ntypes + 1) return;
  std::vector<std::string> skipped;
  for (int i = 1; i <= atom->ntypes; ++i)
    for (int j = i; j <= atom->ntypes; ++j)
      if (type2species[i] >= 0 && type2species[j] >= 0 && list->ijskip[i][j])
        skipped.push_back(fmt::format("{} {} ({} {})", i, j, meta.elements[type2species[i]],
                                      meta.elements[type2species[j]]));
  if (skipped.empty()) return;
  error->all(FLERR, "pair_style ionmd needs every neighbour, but under pair_style {} the pairs "
             "of atom types {} are not ionmd's (a pair_coeff for them after ionmd's, of another "
             "sub-style or 'none', replaces ionmd there): the model would compute a material "
             "without those neighbours; to add a potential on top of the model (zbl at short "
             "range) use pair_style hybrid/overlay and keep ionmd on every pair of its types; to "
             "take atom types out of the model altogether (another sub-style then covers all "
             "their pairs), write NULL for them in ionmd's pair_coeff",
             force->pair_style, utils::join_words(skipped, ", "));
}

// The atoms of the model's types that compute c's group takes, summed over ranks (every rank
// calls). A dynamic group's members are those of its last update (at init before its first
// setup: none), so one counts as taking every atom of the model's types.
bigint PairIonmd::model_atoms_in_group(const Compute *c, bool &dynamic) const
{
  dynamic = group->dynamic[c->igroup] != 0;
  bigint mine = 0, covered = 0;
  for (int i = 0; i < atom->nlocal; ++i)
    if ((dynamic || (atom->mask[i] & c->groupbit)) && type2species[atom->type[i]] >= 0) ++mine;
  MPI_Allreduce(&mine, &covered, 1, MPI_LMP_BIGINT, MPI_SUM, world);
  return covered;
}

// compute heat/flux sums e_i v_i - S_i v_i over its group, S_i the per-atom virial of a
// stress/atom compute. For a many-body model the exact current needs S_i in the centroid
// form (each atom's own energy gradient: compute centroid/stress/atom, not available here,
// see the constructor); the pairwise split stress/atom gets (each edge's -r (x) g half to
// each atom) is exact for the pressure, but its heat current is off (audit, a finite cluster
// against d/dt sum_i x_i e_i of the model's own per-atom energies: lj/cut 3e-7, a 2-layer
// SevenNet 6.6 %, SevenNet-0 10-15 %, not shrinking with the timestep). LAMMPS keeps the
// stress compute's ID to itself, so the heat/flux's own group decides: the sum takes the
// virial of exactly those atoms. Checked at every init: a compute defined after an earlier
// run is caught at the next one. A dynamic group is refused wherever the model's types have
// atoms. init_style calls this one check of the computes, so it checks the tally computes too.
void PairIonmd::check_heat_flux()
{
  if ((int) type2species.size() != atom->ntypes + 1) return;
  check_tally_computes();
  for (int k = 0; k < modify->ncompute; ++k) {
    const Compute *c = modify->compute[k];
    if (strcmp(c->style, "heat/flux") != 0) continue;
    bool dynamic = false;
    const bigint covered = model_atoms_in_group(c, dynamic);
    if (covered == 0) continue;
    error->all(FLERR, "pair_style ionmd: compute {} heat/flux (group {}) {} {} atom(s) of the "
               "model's types, and its heat current would be wrong (~10 % off for SevenNet-0): "
               "the model is many-body, and the per-atom virial it gives compute stress/atom is "
               "the pairwise split of its edge forces, exact for the pressure but not for the "
               "heat flux, which needs the centroid form (compute centroid/stress/atom, which "
               "this pair style cannot give). There is no supported Green-Kubo heat current "
               "with pair_style ionmd yet: remove the compute heat/flux and use non-equilibrium "
               "MD (fix thermal/conductivity, fix ehex or fix heat: no per-atom virial needed) "
               "or, for a finite system (boundary f f f), the exact current d/dt sum_i x_i e_i "
               "from compute pe/atom and ke/atom",
               c->id, group->names[c->igroup],
               dynamic ? "is dynamic and can take any of the" : "takes", covered);
  }
}

// LAMMPS's TALLY computes (force/tally, pe/tally, pe/mol/tally, stress/tally,
// heat/flux/tally, heat/flux/virial/tally) collect pair-by-pair energies, forces and virials
// through ev_tally callbacks that pairwise styles make for each pair i-j. A many-body model
// has no such pairs and makes none, so every value they give for the model's atoms is zero,
// with only LAMMPS's generic warnings ('used with incompatible pair style', 'Energy was not
// tallied': audit, 8-atom LiCl, pe -13.64 eV, pe/tally 0). They tally the pairs of one atom
// in their group and one in their second group, so a group without the model's atoms
// (another sub-style's types under hybrid) tallies what it should and runs.
void PairIonmd::check_tally_computes()
{
  for (int k = 0; k < modify->ncompute; ++k) {
    const Compute *c = modify->compute[k];
    if (!utils::strmatch(c->style, "/tally$")) continue;
    bool dynamic = false;
    const bigint covered = model_atoms_in_group(c, dynamic);
    if (covered == 0) continue;
    const bool heat = utils::strmatch(c->style, "^heat/flux");
    error->all(FLERR, "pair_style ionmd: compute {} {} (group {}) {} {} atom(s) of the model's "
               "types, and would give zero for them: tally computes collect the energy, force "
               "and virial of each pair of atoms from pairwise pair styles, and the model is "
               "many-body, with no pairwise share to give (LAMMPS itself only warns 'used with "
               "incompatible pair style'). Remove the compute {}; {}",
               c->id, c->style, group->names[c->igroup],
               dynamic ? "is dynamic and can take any of the" : "takes", covered, c->id,
               heat ? "there is no supported Green-Kubo heat current with pair_style ionmd "
                      "yet (compute heat/flux is refused too): use non-equilibrium MD (fix "
                      "thermal/conductivity, fix ehex or fix heat)"
                    : "the model's per-atom energies and virials are compute pe/atom and "
                      "compute stress/atom NULL (a group's sums: compute reduce sum over "
                      "that group), its total energy compute pair ionmd, and the forces on a "
                      "group's atoms are fx fy fz (compute reduce sum fx fy fz)");
  }
}
