/* ionmd: keep freed host memory in the process instead of returning it to the kernel.

   glibc's malloc serves every block above its mmap threshold (128 kB, adapting up to
   32 MB) with a fresh mmap and unmaps it on free. A model call on a large graph allocates
   and frees gigabytes of such tensors, so each call faulted in and zeroed its whole working
   set again: SevenNet-0 on 4032 atoms spent 58 % of the run in the kernel (LAMMPS's
   "% CPU use" counts user time only), and a 1000-atom run got 1.9x faster with the
   setting below (docs/benchmarks.md). Served from the heap and never trimmed, freed blocks
   are reused by the next call; the price is a higher resident peak (+19 % there), which
   the plugin's end-of-run memory report shows. As graphs change size the kept heap
   fragments (512 atoms: +9 % resident over 70 steps), so the pair style hands the free
   pages back every 100 calls (release_freed_host_memory). */

#include "mlip_model.h"

#include <climits>
#include <cstdlib>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace IONMD {

bool keep_freed_host_memory()
{
#if defined(__GLIBC__)
  // a user's own malloc tuning (or an explicit opt-out) wins
  for (const char *name : {"IONMD_SYSTEM_MALLOC", "MALLOC_MMAP_MAX_", "MALLOC_MMAP_THRESHOLD_",
                           "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES"})
    if (std::getenv(name)) return false;
  bool ok = mallopt(M_MMAP_MAX, 0) == 1;              // no mmap per large block
  ok = ok && mallopt(M_TRIM_THRESHOLD, INT_MAX) == 1;  // never give the heap's top back
  ok = ok && mallopt(M_TOP_PAD, 64 << 20) == 1;        // grow the heap 64 MB at a time
  return ok;
#else
  return false;
#endif
}

void release_freed_host_memory()
{
#if defined(__GLIBC__)
  malloc_trim(0);    // also releases whole free pages inside the heap, not only at its top
#endif
}

}    // namespace IONMD
