/* ionmd: stopping every MPI rank at once for a failure found on some of them.

   LAMMPS's Error::one on a rank other than 0 writes "ERROR on proc N" to that rank's stdout
   only and aborts: log.lammps (rank 0's) ends without it, and under mpirun the line is now
   and then lost from stdout too (the abort outruns the flush), so `ionmd run` recorded such a
   run as interrupted and resumable, and resumed it into the same failure. Where every rank
   reaches the same point (the memory guard before the model call; after the model call; the
   non-finite output check), the failing ranks' reasons go through this collective instead,
   and rank 0 writes the first of them to log.lammps (Error::all). A rank whose stage fails
   under 'ghost halo' keeps joining the call's exchanges with zero rows to the call's end
   (ionmd_model_staged.cpp), so it reaches the check after the call like the others. */

#ifndef IONMD_RANK_FAILURE_H
#define IONMD_RANK_FAILURE_H

#include "error.h"

#include <mpi.h>
#include <string>

namespace IONMD {

// Collective over `world`: every rank calls it, with its own reason to stop (empty: none).
// Returns where no rank has one; else every rank stops with the lowest failing rank's reason.
inline void stop_if_any_rank_failed(LAMMPS_NS::Error *error, MPI_Comm world, int me,
                                    int nprocs, std::string why)
{
  const int mine = why.empty() ? nprocs : me;
  int first = nprocs;
  MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, world);
  if (first == nprocs) return;
  int length = (int) why.size();
  MPI_Bcast(&length, 1, MPI_INT, first, world);
  why.resize(length);
  MPI_Bcast(&why[0], length, MPI_CHAR, first, world);
  error->all(FLERR, "{}", why);
}

}    // namespace IONMD

#endif
