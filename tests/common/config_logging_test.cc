#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/config.h"
#include "common/logging.h"
#include "testing/status_matchers.h"
#include "testing/test_env.h"

namespace meshwork {
namespace {

using config::Config;
using config::LoadOptions;
using config::SettingSpec;
using config::SettingType;
using config::Source;

std::vector<SettingSpec> Specs() {
  return {
      {"http.address", SettingType::kString, "127.0.0.1:8181", "HTTP listen address"},
      {"engine.threads", SettingType::kInt, "2", "DuckDB threads"},
      {"engine.memory_limit", SettingType::kString, "", "DuckDB memory limit"},
      {"log.json", SettingType::kBool, "false", "JSON logs"},
      {"bootstrap_credentials", SettingType::kString, "", "root credentials", /*secret=*/true},
  };
}

class ConfigTest : public ::testing::Test {
 protected:
  std::string WriteFile(const std::string& text) {
    const auto path = (scratch_.path() / "meshwork.yaml").string();
    std::ofstream(path) << text;
    return path;
  }
  testing::ScratchDir scratch_{"config"};
};

TEST_F(ConfigTest, DefaultsApplyWhenNothingElseIsSet) {
  LoadOptions options;
  options.environment = std::map<std::string, std::string>{};
  ASSERT_OK_AND_ASSIGN(Config config, Config::Load(Specs(), options));
  EXPECT_EQ(config.GetString("http.address").value(), "127.0.0.1:8181");
  EXPECT_EQ(config.GetInt("engine.threads").value(), 2);
  EXPECT_FALSE(config.GetBool("log.json").value());
  EXPECT_EQ(config.Find("http.address")->source, Source::kDefault);
  EXPECT_THAT(config.GetString("engine.memory_limit"),
              IsError(StatusCode::kNotFound, "MESHWORK_ENGINE_MEMORY_LIMIT"));
  EXPECT_THAT(config.GetString("no.such"), IsError(StatusCode::kInvalidArgument));
}

TEST_F(ConfigTest, FileThenEnvironmentThenFlagsEachOverrideTheLayerBelow) {
  LoadOptions options;
  options.file = WriteFile(
      "http:\n  address: 0.0.0.0:9000\nengine:\n  threads: 8\n  memory_limit: 1GB\nlog.json: "
      "yes\n");
  options.environment = std::map<std::string, std::string>{{"MESHWORK_ENGINE_THREADS", "4"},
                                                           {"MESHWORK_UNRELATED", "ignored"}};
  options.flags["http.address"] = {"127.0.0.1:1234", "--http"};
  ASSERT_OK_AND_ASSIGN(Config config, Config::Load(Specs(), options));
  EXPECT_EQ(config.GetString("http.address").value(), "127.0.0.1:1234");
  EXPECT_EQ(config.Find("http.address")->origin, "--http");
  EXPECT_EQ(config.GetInt("engine.threads").value(), 4);
  EXPECT_EQ(config.Find("engine.threads")->origin, "MESHWORK_ENGINE_THREADS");
  EXPECT_EQ(config.GetString("engine.memory_limit").value(), "1GB");
  EXPECT_EQ(config.Find("engine.memory_limit")->source, Source::kFile);
  EXPECT_EQ(config.Find("engine.memory_limit")->origin, options.file + ":5:17");
  EXPECT_TRUE(config.GetBool("log.json").value());
}

TEST_F(ConfigTest, UnknownKeyInFileNamesLineColumnAndSuggestion) {
  LoadOptions options;
  options.file = WriteFile("http:\n  adress: 0.0.0.0:9000\n");
  options.environment = std::map<std::string, std::string>{};
  auto result = Config::Load(Specs(), options);
  EXPECT_THAT(result, IsError(StatusCode::kInvalidArgument,
                              "meshwork.yaml:2:3: unknown setting 'http.adress'"));
  EXPECT_THAT(result, IsError(StatusCode::kInvalidArgument, "did you mean 'http.address'?"));
}

TEST_F(ConfigTest, WrongTypesNameTheirLayer) {
  LoadOptions options;
  options.file = WriteFile("engine:\n  threads: many\n");
  options.environment = std::map<std::string, std::string>{};
  EXPECT_THAT(Config::Load(Specs(), options),
              IsError(StatusCode::kInvalidArgument, "'engine.threads' from file"));

  LoadOptions env_options;
  env_options.environment = std::map<std::string, std::string>{{"MESHWORK_LOG_JSON", "perhaps"}};
  EXPECT_THAT(Config::Load(Specs(), env_options),
              IsError(StatusCode::kInvalidArgument,
                      "from environment (MESHWORK_LOG_JSON) must be a boolean"));
}

TEST_F(ConfigTest, MalformedYamlAndMissingFilesAreClearErrors) {
  LoadOptions options;
  options.environment = std::map<std::string, std::string>{};
  options.file = WriteFile("http: [unclosed\n");
  EXPECT_THAT(Config::Load(Specs(), options),
              IsError(StatusCode::kInvalidArgument, "invalid YAML"));
  options.file = WriteFile("- a\n- b\n");
  EXPECT_THAT(Config::Load(Specs(), options), IsError(StatusCode::kInvalidArgument, "mapping"));
  options.file = WriteFile("http:\n  address: [1, 2]\n");
  EXPECT_THAT(Config::Load(Specs(), options),
              IsError(StatusCode::kInvalidArgument, "single value"));
  options.file = (scratch_.path() / "absent.yaml").string();
  EXPECT_THAT(Config::Load(Specs(), options), IsError(StatusCode::kIOError, "absent.yaml"));
  // Deep nesting must not blow the stack.
  options.file = WriteFile(std::string(100000, '[') + std::string(100000, ']'));
  EXPECT_THAT(Config::Load(Specs(), options), IsError(StatusCode::kInvalidArgument));
}

TEST_F(ConfigTest, SecretsAreRedactedInDescriptions) {
  LoadOptions options;
  options.environment =
      std::map<std::string, std::string>{{"MESHWORK_BOOTSTRAP_CREDENTIALS", "root:hunter2"}};
  ASSERT_OK_AND_ASSIGN(Config config, Config::Load(Specs(), options));
  std::string all;
  for (const auto& line : config.Describe())
    all += line + "\n";
  EXPECT_EQ(all.find("hunter2"), std::string::npos) << all;
  EXPECT_NE(
      all.find("bootstrap_credentials = <redacted>  (environment: MESHWORK_BOOTSTRAP_CREDENTIALS)"),
      std::string::npos)
      << all;
}

TEST(ConfigParseTest, StrictScalars) {
  EXPECT_EQ(config::ParseInt("-42").value(), -42);
  EXPECT_EQ(config::ParseInt("+7").value(), 7);
  EXPECT_THAT(config::ParseInt("4x"), IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(config::ParseInt(""), IsError(StatusCode::kInvalidArgument));
  EXPECT_THAT(config::ParseInt("99999999999999999999"), IsError(StatusCode::kInvalidArgument));
  EXPECT_TRUE(config::ParseBool("ON").value());
  EXPECT_FALSE(config::ParseBool("0").value());
  EXPECT_THAT(config::ParseBool("maybe"), IsError(StatusCode::kInvalidArgument));
  EXPECT_EQ(config::EnvironmentName("engine.memory-limit"), "MESHWORK_ENGINE_MEMORY_LIMIT");
}

TEST(LoggingTest, JsonFormatWritesOneEscapedObjectPerLine) {
  testing::ScratchDir scratch("logging");
  const auto file = (scratch.path() / "log.jsonl").string();
  ASSERT_OK(logging::Init({logging::Level::kInfo, logging::Format::kJson, file}));
  logging::Debug("hidden {}", 1);
  logging::Info("hello \"{}\"\nnext", "world");
  logging::Warn("careful");
  ASSERT_OK(logging::Init({}));  // back to stderr; flushes and closes the file logger
  std::ifstream input(file);
  std::string first, second, third;
  ASSERT_TRUE(std::getline(input, first));
  ASSERT_TRUE(std::getline(input, second));
  EXPECT_FALSE(std::getline(input, third));
  EXPECT_NE(first.find(R"("level":"info")"), std::string::npos) << first;
  EXPECT_NE(first.find(R"("msg":"hello \"world\"\nnext")"), std::string::npos) << first;
  EXPECT_EQ(first.rfind(R"({"ts":")", 0), 0u) << first;
  EXPECT_NE(second.find(R"("level":"warning")"), std::string::npos) << second;
}

TEST(LoggingTest, LevelsParseAndFilter) {
  EXPECT_EQ(logging::ParseLevel("WARNING").value(), logging::Level::kWarn);
  EXPECT_THAT(logging::ParseLevel("loud"), IsError(StatusCode::kInvalidArgument, "trace, debug"));
  EXPECT_THAT(logging::ParseFormat("xml"), IsError(StatusCode::kInvalidArgument));
  ASSERT_OK(logging::Init({logging::Level::kError}));
  EXPECT_FALSE(logging::Enabled(logging::Level::kWarn));
  EXPECT_TRUE(logging::Enabled(logging::Level::kError));
  ASSERT_OK(logging::Init({}));
  EXPECT_THAT(logging::Init({logging::Level::kInfo, logging::Format::kText, "/dev/null/x.log"}),
              IsError(StatusCode::kIOError, "/dev/null/x.log"));
  EXPECT_EQ(logging::JsonEscape(std::string("a\x01", 2)), "a\\u0001");
}

}  // namespace
}  // namespace meshwork
