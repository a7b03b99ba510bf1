// Feeds arbitrary bytes to the YAML config loader: it must return a value or an error, never crash.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "common/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  meshwork::config::LoadOptions options;
  options.file = "fuzz.yaml";
  options.file_text = std::string(reinterpret_cast<const char*>(data), size);
  options.environment = std::map<std::string, std::string>{};
  std::vector<meshwork::config::SettingSpec> specs = {
      {"a.b", meshwork::config::SettingType::kString, "", ""},
      {"n", meshwork::config::SettingType::kInt, "1", ""},
      {"flag", meshwork::config::SettingType::kBool, "", ""},
  };
  auto config = meshwork::config::Config::Load(specs, options);
  if (config.ok())
    (void)config->Describe();
  else
    (void)config.error().ToString();
  return 0;
}
