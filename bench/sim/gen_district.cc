// Writes a seeded synthetic district and its day of requests as JSON (see district.h).
//   gen_district --seed=7 --volunteers=10000 --requests=3000 --out=district.json
//   gen_district --quick --out=-   (small district to stdout)

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "bench/sim/district.h"

ABSL_FLAG(uint64_t, seed, 1, "Random seed; the same seed and sizes give the same file.");
ABSL_FLAG(bool, quick, false, "Start from the small test district (QuickOptions).");
ABSL_FLAG(int, volunteers, -1, "Volunteers; -1 keeps the default (10000, quick 600).");
ABSL_FLAG(int, residents, -1, "Residents; -1 keeps the default (8000, quick 600).");
ABSL_FLAG(int, requests, -1, "Requests in the day; -1 keeps the default (3000, quick 500).");
ABSL_FLAG(std::string, out, "-", "Output file; '-' for stdout.");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Writes a seeded synthetic district as JSON.");
  absl::ParseCommandLine(argc, argv);
  uint64_t seed = absl::GetFlag(FLAGS_seed);
  yiyuan::sim::DistrictOptions options =
      absl::GetFlag(FLAGS_quick) ? yiyuan::sim::QuickOptions(seed) : yiyuan::sim::DistrictOptions{};
  options.seed = seed;
  if (int n = absl::GetFlag(FLAGS_volunteers); n >= 0) options.volunteers = n;
  if (int n = absl::GetFlag(FLAGS_residents); n >= 0) options.residents = n;
  if (int n = absl::GetFlag(FLAGS_requests); n >= 0) options.requests = n;
  absl::StatusOr<yiyuan::sim::District> district = yiyuan::sim::GenerateDistrict(options);
  if (!district.ok()) {
    std::cerr << "gen_district: " << district.status() << "\n";
    return 2;
  }
  std::string json = yiyuan::sim::ToJson(*district);
  std::string out = absl::GetFlag(FLAGS_out);
  if (out == "-") {
    std::cout << json << "\n";
    return std::cout.good() ? 0 : 1;
  }
  std::ofstream f(out, std::ios::binary);
  f << json << "\n";
  f.close();
  if (!f) {
    std::cerr << "gen_district: cannot write " << out << "\n";
    return 1;
  }
  std::cerr << "gen_district: " << district->volunteers.size() << " volunteers, "
            << district->residents.size() << " residents, " << district->requests.size()
            << " requests -> " << out << "\n";
  return 0;
}
