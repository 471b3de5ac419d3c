/* ionmd: parsing and validation of the metadata stored inside model files. */

#include "ionmd_model.h"

#include <sstream>

namespace IONMD {

static std::string trim(const std::string &s)
{
  const char *ws = " \t\r\n";
  auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

ModelMetadata IONMD_STRING_ABI::parse_metadata(const std::string &text, const std::string &path)
{
  ModelMetadata meta;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (trim(line).empty()) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos)
      throw IonmdError("model file " + path + ": malformed metadata line '" + line + "'");
    meta.raw[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  for (const char *key : {"format_version", "family", "cutoff", "num_layers", "elements", "dtype"})
    if (meta.raw.find(key) == meta.raw.end())
      throw IonmdError("model file " + path + ": metadata lacks '" + key +
                      "'; re-export the model with `ionmd export`");

  try {
    meta.format_version = std::stoi(meta.raw["format_version"]);
    meta.cutoff = std::stod(meta.raw["cutoff"]);
    meta.num_layers = std::stoi(meta.raw["num_layers"]);
  } catch (std::exception &) {
    throw IonmdError("model file " + path + ": metadata has a non-numeric format_version, "
                    "cutoff or num_layers");
  }
  if (meta.format_version < MIN_FORMAT_VERSION || meta.format_version > MAX_FORMAT_VERSION)
    throw IonmdError("model file " + path + " has format version " +
                    std::to_string(meta.format_version) + " but this ionmd plugin reads " +
                    std::to_string(MIN_FORMAT_VERSION) + ".." + std::to_string(MAX_FORMAT_VERSION) +
                    ": export the model with the ionmd version that built this plugin, "
                    "or update ionmd");
  meta.family = meta.raw["family"];
  meta.dtype = meta.raw["dtype"];
  if (meta.dtype != "float32" && meta.dtype != "float64")
    throw IonmdError("model file " + path + ": unknown dtype '" + meta.dtype + "'");
  if (!(meta.cutoff > 0.0) || meta.num_layers < 1)
    throw IonmdError("model file " + path + ": cutoff must be > 0 and num_layers >= 1");
  std::istringstream el(meta.raw["elements"]);
  std::string sym;
  while (el >> sym) meta.elements.push_back(sym);
  if (meta.elements.empty()) throw IonmdError("model file " + path + ": no elements in metadata");

  // optional per-layer stages (docs/model-contract.md)
  auto st = meta.raw.find("halo_stages");
  if (st != meta.raw.end() && !st->second.empty() && st->second != "0") {
    try {
      meta.halo_stages = std::stoi(st->second);
    } catch (std::exception &) {
      throw IonmdError("model file " + path + ": metadata halo_stages is not an integer");
    }
    std::istringstream ws(meta.raw.count("halo_widths") ? meta.raw["halo_widths"] : "");
    int w;
    while (ws >> w) meta.halo_widths.push_back(w);
    if (meta.halo_stages < 1 || (int) meta.halo_widths.size() != meta.halo_stages)
      throw IonmdError("model file " + path + ": metadata halo_stages=" + st->second +
                      " needs halo_widths with one width per stage (got '" +
                      (meta.raw.count("halo_widths") ? meta.raw["halo_widths"] : "") +
                      "'); re-export the model with `ionmd export`");
    for (int x : meta.halo_widths)
      if (x < 1)
        throw IonmdError("model file " + path + ": metadata halo_widths must be positive");
  }
  auto ve = meta.raw.find("stage_vjp_energies");
  meta.stage_vjp_energies = ve != meta.raw.end() && ve->second == "1";
  if (meta.stage_vjp_energies) {
    try {
      meta.stage_last_width = std::stoi(meta.raw.count("stage_last_width") ? meta.raw["stage_last_width"] : "");
    } catch (std::exception &) {
    }    // missing or not a number: refused below
    if (meta.halo_stages < 1 || meta.stage_last_width < 1)
      throw IonmdError("model file " + path + ": metadata stage_vjp_energies=1 needs halo_stages "
                      "and a positive stage_last_width; re-export the model with `ionmd export`");
  }
  auto ae = meta.raw.find("memory_auto_edges");
  if (ae != meta.raw.end() && !ae->second.empty()) {
    double edges = 0;
    try {
      edges = std::stod(ae->second);
    } catch (std::exception &) {
    }    // not a number: refused below, like a value <= 0
    if (!(edges > 0))
      throw IonmdError("model file " + path + ": metadata memory_auto_edges must be a positive "
                      "number (got '" + ae->second + "')");
    meta.memory_auto_edges = edges;
  }
  return meta;
}

}    // namespace IONMD
