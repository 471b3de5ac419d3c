/* ionmd: neighbour list -> graph in the model-file contract's convention. */

#include "ionmd_graph.h"

#include "atom.h"
#include "error.h"
#include "neigh_list.h"

using namespace LAMMPS_NS;

void IonmdGraphBuilder::add_nodes(int begin, int end, const std::vector<int> &type2species,
                                 IONMD::IonmdGraph &g)
{
  const int *type = atom->type;
  for (int i = begin; i < end; ++i) {
    const int s = type2species[type[i]];
    if (s < 0) continue;
    atom_to_node[i] = (int) node_to_atom.size();
    node_to_atom.push_back(i);
    g.species.push_back(s);
  }
}

// Single rank: every ghost is a periodic image of a local atom with the same tag.
void IonmdGraphBuilder::map_ghosts_to_owners()
{
  const int nlocal = atom->nlocal, nall = nlocal + atom->nghost;
  const tagint *tag = atom->tag;
  tag_to_local.clear();
  for (int i = 0; i < nlocal; ++i) tag_to_local[tag[i]] = i;
  for (int i = nlocal; i < nall; ++i) {
    auto it = tag_to_local.find(tag[i]);
    if (it == tag_to_local.end())
      error->one(FLERR,
                 "pair_style ionmd: ghost atom {} has no local owner; graph mode 'owners' "
                 "works on one MPI rank only (use 'graph ghosts' or 'graph auto')",
                 tag[i]);
    atom_to_node[i] = atom_to_node[it->second];
  }
}

void IonmdGraphBuilder::build(Mode mode, NeighList *list, const std::vector<int> &type2species,
                             double cutsq, IONMD::IonmdGraph &g)
{
  const int nlocal = atom->nlocal, nall = nlocal + atom->nghost;
  double **x = atom->x;

  g.clear();
  node_to_atom.clear();
  atom_to_node.assign(nall, -1);

  add_nodes(0, nlocal, type2species, g);
  g.nlocal = (int) node_to_atom.size();
  int ncentres = list->inum;
  if (mode == OWNERS) {
    map_ghosts_to_owners();
  } else if (mode == GHOSTS) {
    add_nodes(nlocal, nall, type2species, g);
    // redundant shell: ghost atoms need their own neighbours for the inner layers
    ncentres += list->gnum;
  }
  // HALO: a ghost becomes a node when it first sends an edge into a local atom. The
  // ghost shell is cutoff + skin thick, and the ghosts in the skin or beyond the reach
  // of every local atom would only add node-wise work (and exchanged rows) to each stage.
  const int *type = atom->type;

  const int *ilist = list->ilist;
  const int *numneigh = list->numneigh;
  int **firstneigh = list->firstneigh;
  for (int ii = 0; ii < ncentres; ++ii) {
    const int i = ilist[ii];
    const int ni = atom_to_node[i];
    if (ni < 0) continue;
    const int *jlist = firstneigh[i];
    for (int jj = 0; jj < numneigh[i]; ++jj) {
      const int j = jlist[jj] & NEIGHMASK;
      int nj = atom_to_node[j];
      if (nj < 0 && (mode != HALO || j < nlocal)) continue;
      const double dx = x[j][0] - x[i][0], dy = x[j][1] - x[i][1], dz = x[j][2] - x[i][2];
      if (dx * dx + dy * dy + dz * dz >= cutsq) continue;
      if (nj < 0) {    // HALO: first edge from this ghost
        const int s = type2species[type[j]];
        if (s < 0) continue;
        nj = atom_to_node[j] = (int) node_to_atom.size();
        node_to_atom.push_back(j);
        g.species.push_back(s);
      }
      g.edge_i.push_back(ni);
      g.edge_j.push_back(nj);
      g.edge_vec.push_back(dx);
      g.edge_vec.push_back(dy);
      g.edge_vec.push_back(dz);
    }
  }
}
