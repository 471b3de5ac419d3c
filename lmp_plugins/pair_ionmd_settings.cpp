/* ionmd: pair_style ionmd's input lines: the pair_style keywords (settings) and the
   pair_coeff elements, one per atom type (coeff). */

#include "pair_ionmd.h"

#include "atom.h"
#include "comm.h"
#include "error.h"
#include "force.h"
#include "update.h"
#include "utils.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

using namespace LAMMPS_NS;

// The keywords' defaults: a pair_style line given again (LAMMPS keeps the object of the
// same style and calls settings() again) means only what it says, not the earlier line's.
void PairIonmd::reset_settings()
{
  device_request = "auto";
  graph_request = GRAPH_AUTO;
  ghost_request = GHOST_AUTO;
  memory_mode = MEMORY_AUTO;
  memory_given = chunk_given = max_memory_given = false;
  edge_chunk = DEFAULT_EDGE_CHUNK;
  max_memory_gb = -1.0;
  told_auto_low = false;
}

// What a data file written in `units` needs to become one in metal units.
static std::string units_conversion_advice(const std::string &units)
{
  if (units == "real")
    return "; a 'real' data file keeps its coordinates (A) and masses (g/mol), its Velocities "
           "x 1000 (A/fs to A/ps)";
  if (units == "lj")
    return "; 'lj' units are reduced (sigma, epsilon, mass): coordinates, masses and "
           "velocities of a data file must be converted to A, g/mol and A/ps for the elements "
           "of pair_coeff";
  if (units == "si" || units == "cgs")
    return fmt::format("; a '{}' data file needs its coordinates in A ({} x {}), masses in "
                       "g/mol and velocities in A/ps", units, units == "si" ? "m" : "cm",
                       units == "si" ? "1e10" : "1e8");
  if (units == "electron")
    return "; an 'electron' data file needs its coordinates in A (Bohr x 0.529177), masses in "
           "g/mol (amu) and velocities in A/ps";
  if (units == "micro" || units == "nano")
    return fmt::format("; a '{}' data file needs its coordinates in A ({} x {}), masses in "
                       "g/mol and velocities in A/ps", units,
                       units == "micro" ? "micrometres" : "nanometres",
                       units == "micro" ? "1e4" : "10");
  return "";
}

// The model's eV and Angstrom are read as the current units' energy and length. Checked at
// the pair_style line and again at each run's init: a `units` command after the pair_style
// line (before the box exists) or a read_restart of a file written in other units changes
// them later, and the run would take eV for kcal/mol (Li7P3S11 after `units real`: 2852
// "atm" for 66,643 bar, forces 23x too strong in the dynamics), without any error.
void PairIonmd::check_units(const std::string &since)
{
  if (strcmp(update->unit_style, "metal") == 0) return;
  error->all(FLERR, "pair_style ionmd requires 'units metal' (models use eV and Angstrom), "
             "but units are '{}'{}: put 'units metal' before read_data or create_box, with "
             "times in ps (timestep 0.001 is 1 fs) and velocities in Angstrom/ps{}",
             update->unit_style, since, units_conversion_advice(update->unit_style));
}

/* pair_style ionmd FILE [device D] [graph auto|owners|ghosts] [ghost auto|redundant|halo]
                    [memory auto|fast|low] [chunk EDGES] [max_memory auto|off|GiB] */
void PairIonmd::settings(int narg, char **arg)
{
  if (narg < 1)
    error->all(FLERR, "Illegal pair_style ionmd command: expected "
               "'pair_style ionmd FILE [device auto|cpu|cuda|cuda:N] [graph auto|owners|ghosts] "
               "[ghost auto|redundant|halo] [memory auto|fast|low] [chunk EDGES] [max_memory auto|off|GiB]'");
  check_units("");
  reset_settings();
  const std::vector<std::string> previous_elements =
      model ? meta.elements : std::vector<std::string>();
  model_file = arg[0];
  for (int iarg = 1; iarg < narg; iarg += 2) {
    if (iarg + 1 >= narg)
      error->all(FLERR, "pair_style ionmd: keyword '{}' needs a value", arg[iarg]);
    const std::string key = arg[iarg], val = arg[iarg + 1];
    if (key == "device") {
      device_request = val;
    } else if (key == "graph") {
      if (val == "auto") graph_request = GRAPH_AUTO;
      else if (val == "owners") graph_request = GRAPH_OWNERS;
      else if (val == "ghosts") graph_request = GRAPH_GHOSTS;
      else error->all(FLERR, "pair_style ionmd: graph must be auto, owners or ghosts, not '{}'", val);
    } else if (key == "ghost") {
      if (val == "auto") ghost_request = GHOST_AUTO;
      else if (val == "redundant") ghost_request = GHOST_REDUNDANT;
      else if (val == "halo") ghost_request = GHOST_HALO;
      else error->all(FLERR, "pair_style ionmd: ghost must be auto, redundant or halo, not '{}'", val);
    } else if (key == "memory") {
      memory_given = true;
      if (val == "auto") memory_mode = MEMORY_AUTO;
      else if (val == "fast") memory_mode = MEMORY_FAST;
      else if (val == "low") memory_mode = MEMORY_LOW;
      else error->all(FLERR, "pair_style ionmd: memory must be auto, fast or low, not '{}'", val);
    } else if (key == "chunk") {
      char *end = nullptr;
      const long long n = strtoll(val.c_str(), &end, 10);
      if (end == val.c_str() || *end != '\0' || n < 0)
        error->all(FLERR, "pair_style ionmd: chunk must be a number of edges >= 0 (0: whole "
                   "stages), not '{}'", val);
      edge_chunk = n;
      chunk_given = true;
    } else if (key == "max_memory") {
      max_memory_given = true;
      if (val == "auto") max_memory_gb = -1.0;
      else if (val == "off") max_memory_gb = 0.0;
      else {
        char *end = nullptr;
        max_memory_gb = strtod(val.c_str(), &end);
        if (end == val.c_str() || *end != '\0' || !(max_memory_gb > 0.0))
          error->all(FLERR, "pair_style ionmd: max_memory must be auto, off or a positive number "
                     "of GiB per MPI rank, not '{}'", val);
      }
    } else {
      error->all(FLERR, "pair_style ionmd: unknown keyword '{}' (known: device, graph, ghost, "
                 "memory, chunk, max_memory)", key);
    }
  }
  if (ghost_request == GHOST_HALO && graph_request != GRAPH_AUTO)
    error->all(FLERR, "pair_style ionmd: 'ghost halo' cannot be combined with 'graph {}'; "
               "drop the graph keyword", graph_request == GRAPH_OWNERS ? "owners" : "ghosts");
  if (graph_request == GRAPH_OWNERS && comm->nprocs > 1)
    error->all(FLERR, "pair_style ionmd: 'graph owners' needs one MPI rank but {} are running; "
               "use 'graph auto'", comm->nprocs);
  load_model();
  model->set_edge_chunk(edge_chunk);
  if (allocated && meta.elements != previous_elements) {
    // the atom types were mapped to the previous model's species numbers
    type2species.clear();
    const int n = atom->ntypes + 1;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) setflag[i][j] = 0;
    if (comm->me == 0)
      error->warning(FLERR, "pair_style ionmd: {} has other elements than the previous model; "
                     "give pair_coeff * * with its elements again", model_file);
  }

  const auto &m = meta;
  if (ghost_request == GHOST_HALO && m.halo_stages == 0)
    error->all(FLERR, "pair_style ionmd: 'ghost halo' needs a model file with per-layer stages, "
               "but {} has none; re-export it with `ionmd export ... --stages` (TorchScript "
               "SevenNet/MACE, eSEN packages) or use 'ghost redundant'", model_file);
  // LAMMPS sizes its communication buffers from these (Comm::init); one double per feature
  comm_forward = comm_reverse =
      m.halo_widths.empty() ? 0 : *std::max_element(m.halo_widths.begin(), m.halo_widths.end());
}

// Atoms of each type over all ranks (index = type). Collective.
std::vector<bigint> PairIonmd::atoms_per_type() const
{
  std::vector<bigint> mine(atom->ntypes + 1, 0), all(atom->ntypes + 1, 0);
  for (int i = 0; i < atom->nlocal; ++i) ++mine[atom->type[i]];
  MPI_Allreduce(mine.data(), all.data(), atom->ntypes + 1, MPI_LMP_BIGINT, MPI_SUM, world);
  return all;
}

// A data file can declare more atom types than it has elements (types for later atoms, a
// writer's fixed type list): those types need an element in pair_coeff too.
std::string PairIonmd::empty_types_note(const std::vector<bigint> &count) const
{
  std::vector<std::string> empty;
  for (int t = 1; t <= atom->ntypes; ++t)
    if (count[t] == 0) empty.push_back(std::to_string(t));
  if (empty.empty()) return "";
  const bool many = empty.size() > 1;
  return fmt::format(" (atom type{} {} {} no atoms but count{} too: give {} an element of its "
                     "mass, or NULL under pair_style hybrid)", many ? "s" : "",
                     utils::join_words(empty, " "), many ? "have" : "has", many ? "" : "s",
                     many ? "each" : "it");
}

/* pair_coeff * * El1 El2 ... with one element (or NULL) per atom type */
void PairIonmd::coeff(int narg, char **arg)
{
  if (!allocated) allocate();
  const int ntypes = atom->ntypes;
  const std::string third = narg > 2 ? arg[2] : "";
  const auto ends_with = [&](const std::string &suffix) {
    return third.size() > suffix.size() &&
        third.compare(third.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (narg == 3 + ntypes && (third == model_file || ends_with(".pt") || ends_with(".pt2"))) {
    // under hybrid the file follows the sub-style's name in the pair_style line
    const bool sub = force->pair != this;
    std::vector<std::string> els;
    for (int k = 3; k < narg; ++k) els.emplace_back(arg[k]);
    error->all(FLERR, "pair_coeff for pair_style ionmd takes '* *' and the elements only: the "
               "model file ({}) belongs in 'pair_style {}ionmd FILE{}'; the line is "
               "'pair_coeff * * {}{}'", arg[2], sub ? fmt::format("{} ", force->pair_style) : "",
               sub ? " <other sub-styles>" : "", sub ? "ionmd " : "", utils::join_words(els, " "));
  }
  if (narg != 2 + ntypes)
    error->all(FLERR, "pair_coeff for pair_style ionmd needs '* *' followed by one element per "
               "atom type: {} atom types but {} elements given{}", ntypes, narg - 2,
               empty_types_note(atoms_per_type()));
  if (strcmp(arg[0], "*") != 0 || strcmp(arg[1], "*") != 0)
    error->all(FLERR, "pair_coeff for pair_style ionmd must start with '* *'");

  const auto &elements = meta.elements;
  const auto count = atoms_per_type();
  type2species.assign(ntypes + 1, -1);
  for (int t = 1; t <= ntypes; ++t) {
    const std::string el = arg[t + 1];
    if (el == "NULL") {
      if (force->pair == this)    // not a sub-style of pair_style hybrid
        error->all(FLERR, "pair_coeff: NULL (atom type {}) leaves that type without a "
                   "potential; it is for pair_style hybrid or hybrid/overlay, with another "
                   "style for that type", t);
      continue;
    }
    auto it = std::find(elements.begin(), elements.end(), el);
    if (it == elements.end()) {
      // element symbols are case-sensitive: 'cl' for Cl, 'LI' for Li
      const auto same_letters =
          std::find_if(elements.begin(), elements.end(), [&](const std::string &e) {
            return utils::lowercase(e) == utils::lowercase(el);
          });
      if (same_letters != elements.end())
        error->all(FLERR, "pair_coeff: element '{}' (atom type {}): element symbols are "
                   "case-sensitive, write '{}'", el, t, *same_letters);
      error->all(FLERR, "pair_coeff: element '{}' (atom type {}) is not known to model {}; "
                 "it knows: {}{}", el, t, model_file, utils::join_words(elements, " "),
                 count[t] == 0 ? fmt::format(" (type {} has no atoms, but still needs one of "
                                             "these: atoms of it created later would be that "
                                             "element)", t)
                               : std::string());
    }
    type2species[t] = (int) (it - elements.begin());
    if (comm->me == 0)
      utils::logmesg(lmp, "pair_style ionmd: atom type {} -> {} (model species {})\n", t, el,
                     type2species[t]);
  }
  for (int i = 1; i <= ntypes; ++i)
    for (int j = i; j <= ntypes; ++j)
      setflag[i][j] = (type2species[i] >= 0 && type2species[j] >= 0) ? 1 : 0;
}
