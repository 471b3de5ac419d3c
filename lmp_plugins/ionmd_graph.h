/* -*- c++ -*- ----------------------------------------------------------
   ionmd: turns a LAMMPS full neighbour list into an IonmdGraph.

   Three ways to treat ghost atoms (docs/scaling.md; the staged contract in
   docs/model-contract.md):
   - OWNERS: one MPI rank; every ghost is an image of a local atom, so edges point at
     the owner and the graph holds only local atoms (fewest nodes, fastest);
   - GHOSTS: several ranks; local and ghost atoms are nodes and the ghost shell is
     num_layers * cutoff thick, so every local energy is exact (redundant work);
   - HALO: several ranks, staged models; local atoms and the ghosts that send them an
     edge are nodes, only local atoms receive edges, the ghost shell is one cutoff thick,
     and ghost node features are exchanged between the model's per-layer stages
     (pair_ionmd_halo.cpp).
------------------------------------------------------------------------- */

#ifndef IONMD_GRAPH_H
#define IONMD_GRAPH_H

#include "ionmd_model.h"
#include "pointers.h"

#include <unordered_map>
#include <vector>

namespace LAMMPS_NS {

class IonmdGraphBuilder : protected Pointers {
 public:
  enum Mode { OWNERS, GHOSTS, HALO };

  explicit IonmdGraphBuilder(class LAMMPS *lmp) : Pointers(lmp) {}

  // type2species[LAMMPS type] = model species index, or -1 for atoms this style skips.
  void build(Mode mode, class NeighList *list, const std::vector<int> &type2species, double cutsq,
             IONMD::IonmdGraph &graph);

  // node index -> LAMMPS atom index (local or ghost) that receives its force
  const std::vector<int> &node_atom() const { return node_to_atom; }

 private:
  void add_nodes(int begin, int end, const std::vector<int> &type2species, IONMD::IonmdGraph &g);
  void map_ghosts_to_owners();

  std::vector<int> node_to_atom;
  std::vector<int> atom_to_node;    // -1 where the atom is not a node
  std::unordered_map<tagint, int> tag_to_local;
};

}    // namespace LAMMPS_NS

#endif
