// deploy/systemd/: the units load in systemd (systemd-analyze verify, where
// the machine has it) and carry the settings a long-running daemon needs; the
// example environment files define every variable the units use.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "gtest/gtest.h"
#include "tests/util/test_dirs.h"

namespace unas {
namespace {

const std::string kUnits = std::string(UNAS_SOURCE_DIR) + "/deploy/systemd";

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// [Section] Key=Value, with comments and blank lines; repeated keys kept.
using Ini = std::map<std::string, std::multimap<std::string, std::string>>;

Ini ParseUnit(const std::string& path) {
  Ini ini;
  std::istringstream lines(Slurp(path));
  std::string line, section;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      EXPECT_EQ(line.back(), ']') << path << ":" << number;
      section = line.substr(1, line.size() - 2);
      ini[section];
      continue;
    }
    size_t eq = line.find('=');
    EXPECT_NE(eq, std::string::npos) << path << ":" << number << ": " << line;
    EXPECT_FALSE(section.empty()) << path << ":" << number << ": a key outside any section";
    if (eq == std::string::npos) continue;
    ini[section].insert({line.substr(0, eq), line.substr(eq + 1)});
  }
  return ini;
}

std::string Value(const Ini& ini, const std::string& section, const std::string& key) {
  auto s = ini.find(section);
  if (s == ini.end()) return "";
  auto k = s->second.find(key);
  return k == s->second.end() ? "" : k->second;
}

// Variables set by an environment file (KEY=value lines).
std::set<std::string> EnvKeys(const std::string& path) {
  std::set<std::string> keys;
  std::istringstream lines(Slurp(path));
  std::string line;
  std::regex assignment("^([A-Z_][A-Z0-9_]*)=.*$");
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::smatch m;
    EXPECT_TRUE(std::regex_match(line, m, assignment)) << path << ": " << line;
    if (!m.empty()) keys.insert(m[1]);
  }
  return keys;
}

void ExpectDaemonSettings(const Ini& unit, const std::string& name) {
  SCOPED_TRACE(name);
  for (const char* section : {"Unit", "Service", "Install"}) {
    EXPECT_TRUE(unit.contains(section)) << section;
  }
  EXPECT_EQ(Value(unit, "Service", "Restart"), "on-failure");
  EXPECT_EQ(Value(unit, "Service", "KillSignal"), "SIGTERM");
  EXPECT_EQ(Value(unit, "Service", "User"), "unas");
  EXPECT_EQ(Value(unit, "Service", "NoNewPrivileges"), "yes");
  EXPECT_EQ(Value(unit, "Service", "ProtectSystem"), "strict");
  EXPECT_EQ(Value(unit, "Service", "PrivateTmp"), "yes");
  EXPECT_FALSE(Value(unit, "Service", "StateDirectory").empty());
  EXPECT_NE(Value(unit, "Service", "ReadWritePaths")
                .find("/var/lib/" + Value(unit, "Service", "StateDirectory")),
            std::string::npos);
  EXPECT_EQ(Value(unit, "Service", "EnvironmentFile").rfind("/etc/unas/", 0), 0u);
  EXPECT_EQ(Value(unit, "Install", "WantedBy"), "multi-user.target");
}

TEST(SystemdUnitsTest, CoordinatorUnitHasTheDaemonSettings) {
  Ini unit = ParseUnit(kUnits + "/unas-coordinator.service");
  ExpectDaemonSettings(unit, "unas-coordinator.service");
  std::string exec = Value(unit, "Service", "ExecStart");
  EXPECT_NE(exec.find("unas-coordinator --db /var/lib/unas/"), std::string::npos) << exec;
  EXPECT_EQ(Value(unit, "Service", "RestartPreventExitStatus"), "2");
  std::set<std::string> env = EnvKeys(kUnits + "/coordinator.env");
  for (const char* key : {"UNAS_LISTEN", "UNAS_COORDINATOR_FLAGS"}) {
    EXPECT_TRUE(env.contains(key)) << key;
    EXPECT_NE(exec.find(key), std::string::npos) << key;
  }
  // The example serves beyond loopback, so it must carry TLS and both tokens.
  std::string flags = Slurp(kUnits + "/coordinator.env");
  for (const char* flag :
       {"--tls-cert", "--tls-key", "--worker-token-file", "--client-token-file"}) {
    EXPECT_NE(flags.find(flag), std::string::npos) << flag;
  }
}

TEST(SystemdUnitsTest, WorkerTemplatePinsOneGpuPerInstance) {
  Ini unit = ParseUnit(kUnits + "/unas-worker@.service");
  ExpectDaemonSettings(unit, "unas-worker@.service");
  bool pinned = false;
  auto service = unit["Service"];
  auto range = service.equal_range("Environment");
  for (auto it = range.first; it != range.second; ++it) {
    pinned |= it->second == "CUDA_VISIBLE_DEVICES=%i";
  }
  EXPECT_TRUE(pinned);
  std::string exec = Value(unit, "Service", "ExecStart");
  EXPECT_NE(exec.find("--name %H/gpu%i"), std::string::npos) << exec;
  std::set<std::string> env = EnvKeys(kUnits + "/worker.env");
  for (const char* key :
       {"UNAS_COORDINATOR", "UNAS_TLS_CA", "UNAS_TOKEN_FILE", "UNAS_WORKER_FLAGS"}) {
    EXPECT_TRUE(env.contains(key)) << key;
  }
}

// systemd-analyze verify on copies whose ExecStart points at stand-in
// executables (the real ones are installed elsewhere on a real node).
TEST(SystemdUnitsTest, SystemdAnalyzeVerifyAcceptsTheUnits) {
  const char* analyze = "/usr/bin/systemd-analyze";
  if (!std::filesystem::exists(analyze)) {
    GTEST_SKIP() << "no systemd-analyze here; the INI checks above still ran";
  }
  std::string dir = testing::MakeTestDir("systemd-units");
  std::filesystem::create_directories(dir + "/bin");
  for (const char* binary : {"unas-coordinator", "unas-worker"}) {
    std::string path = dir + "/bin/" + binary;
    std::ofstream(path) << "#!/bin/sh\nexit 0\n";
    chmod(path.c_str(), 0755);
  }
  std::vector<std::string> argv = {analyze, "verify", "--man=no"};
  for (const char* name : {"unas-coordinator.service", "unas-worker@.service"}) {
    std::string text = Slurp(kUnits + "/" + name);
    text = std::regex_replace(text, std::regex("/usr/local/bin/"), dir + "/bin/");
    std::ofstream(dir + "/" + name) << text;
    argv.push_back(dir + "/" + name);
  }
  testing::CommandResult verify = testing::RunCommand(argv, absl::Seconds(60));
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  // Nothing at all to complain about (warnings included).
  EXPECT_EQ(verify.err.find("unas-"), std::string::npos) << verify.err;

  // And it does catch a broken unit.
  std::ofstream(dir + "/broken.service") << "[Service]\nExecStart=relative/path\n";
  testing::CommandResult broken =
      testing::RunCommand({analyze, "verify", "--man=no", dir + "/broken.service"});
  EXPECT_NE(broken.exit_code, 0) << broken.err;
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace unas
