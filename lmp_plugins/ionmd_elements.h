/* -*- c++ -*- ----------------------------------------------------------
   ionmd: standard atomic weights of the elements, to check the per-type masses of a
   LAMMPS input against the elements given in pair_coeff.
------------------------------------------------------------------------- */

#ifndef IONMD_ELEMENTS_H
#define IONMD_ELEMENTS_H

#include <string>
#include <vector>

namespace IONMD {

// Standard atomic weight of an element symbol (g/mol = LAMMPS metal mass units); for
// elements without a stable isotope the mass of a long-lived one. < 0 for an unknown symbol.
double standard_atomic_weight(const std::string &symbol);

// The element whose standard atomic weight lies closest to `mass` (relative distance in
// *rel; empty where none is known).
std::string closest_element(double mass, double *rel);

// The 118 element symbols, Z = 1 ... 118.
std::vector<std::string> element_symbols();

}    // namespace IONMD

#endif
