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

#include "ionmd_model.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <sys/resource.h>

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

// ---------------------------------------------------------------- memory readings
// Used by the pair style's memory guard (pair_ionmd_memory_guard.cpp).

namespace {

// "Key:   123 kB" line of a /proc file, in bytes; < 0 when absent
double proc_kib_field(const char *path, const char *key)
{
  FILE *f = fopen(path, "r");
  if (!f) return -1.0;
  char line[256];
  double v = -1.0;
  const size_t n = strlen(key);
  while (fgets(line, sizeof(line), f))
    if (strncmp(line, key, n) == 0) {
      v = atof(line + n) * 1024.0;
      break;
    }
  fclose(f);
  return v;
}

// first number in a file, < 0 when absent or not a number ("max")
double file_number(const std::string &path)
{
  std::ifstream in(path);
  std::string word;
  if (!(in >> word) || word.empty() || word[0] < '0' || word[0] > '9') return -1.0;
  return atof(word.c_str());
}

// value of `key` in a cgroup memory.stat file, 0 when absent
double stat_field(const std::string &path, const std::string &key)
{
  std::ifstream in(path);
  std::string k;
  double v;
  while (in >> k >> v)
    if (k == key) return v;
  return 0.0;
}

// Room left below the limit of one cgroup directory (v2: memory.max, v1:
// memory.limit_in_bytes); page cache it could reclaim (inactive files) counts as room.
// < 0 where the directory sets no limit.
double cgroup_room(const std::string &dir, bool v2)
{
  const double limit = file_number(dir + (v2 ? "/memory.max" : "/memory.limit_in_bytes"));
  if (limit < 0.0 || limit > 1e18) return -1.0;    // "max", or v1's 2^63 "no limit"
  const double usage = file_number(dir + (v2 ? "/memory.current" : "/memory.usage_in_bytes"));
  if (usage < 0.0) return -1.0;
  const double cache = stat_field(dir + "/memory.stat", v2 ? "inactive_file" : "total_inactive_file");
  return std::max(0.0, limit - usage + cache);
}

}    // namespace

double host_rss_bytes()
{
  return std::max(0.0, proc_kib_field("/proc/self/status", "VmRSS:"));
}

double host_peak_bytes()
{
  return std::max(0.0, proc_kib_field("/proc/self/status", "VmHWM:"));
}

double host_address_space_room_bytes()
{
  struct rlimit lim;
  if (getrlimit(RLIMIT_AS, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) return -1.0;
  const double vm = proc_kib_field("/proc/self/status", "VmSize:");
  if (vm < 0.0) return -1.0;
  return std::max(0.0, (double) lim.rlim_cur - vm);
}

bool reset_host_peak()
{
  FILE *f = fopen("/proc/self/clear_refs", "w");
  if (!f) return false;
  const bool ok = fputs("5", f) >= 0;    // 5: reset the peak resident set size (Linux >= 4.0)
  return fclose(f) == 0 && ok;
}

double IONMD_STRING_ABI::host_available_bytes(std::string &source)
{
  double avail = proc_kib_field("/proc/meminfo", "MemAvailable:");
  source = "MemAvailable";
  if (avail < 0.0) {
    source = "unknown";
    return -1.0;
  }
  // the memory cgroup of this process and every cgroup above it, as mounted here
  std::ifstream cg("/proc/self/cgroup");
  std::string line;
  while (std::getline(cg, line)) {
    const auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    const bool v2 = line.compare(0, 2, "0:") == 0 && controllers.empty();
    bool v1 = false;
    std::stringstream ss(controllers);
    for (std::string c; std::getline(ss, c, ',');) v1 = v1 || c == "memory";
    if (!v2 && !v1) continue;
    const std::string root = v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
    // a namespaced container shows its own cgroup as "/", others a path below the root
    while (true) {
      const double room = cgroup_room(root + (path == "/" ? "" : path), v2);
      if (room >= 0.0 && room < avail) {
        avail = room;
        source = "memory cgroup limit";
      }
      if (path.empty() || path == "/") break;
      path = path.substr(0, path.find_last_of('/'));
      if (path.empty()) path = "/";
    }
  }
  return avail;
}

}    // namespace IONMD
