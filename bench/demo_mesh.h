#pragma once
// The demo mesh for the query benchmarks: built by the meshwork binary itself (`meshwork demo
// --no-serve`, as a user builds it), or reused from a data dir an earlier run left, and the
// meshwork server started on it as a child process.

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace meshwork::bench {

/// The root credential every benchmark mesh is created with.
inline constexpr const char* kRootId = "root";
inline constexpr const char* kRootSecret = "bench-secret";

/// Runs `argv` to completion with stdout/stderr sent to `log` (appended); the exit status.
inline int RunProcess(const std::vector<std::string>& argv, const std::string& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> args;
    for (const auto& arg : argv)
      args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/// A data dir holding the demo mesh at `scale`: `data_dir` when given (built there unless a mesh
/// is already in it), else a scratch folder removed at exit.
class DemoMesh {
 public:
  DemoMesh(const std::string& meshwork, const std::string& examples, int scale,
           std::string data_dir)
      : meshwork_(meshwork), owned_(data_dir.empty()) {
    if (owned_) {
      data_dir = (std::filesystem::temp_directory_path() /
                  ("meshwork-bench-mesh-" + std::to_string(::getpid())))
                     .string();
      std::filesystem::remove_all(data_dir);
    }
    data_dir_ = data_dir;
    if (std::filesystem::exists(data_dir_ + "/meshwork.db")) {
      std::printf(
          "reusing the mesh in %s (built by an earlier run; its scale is what it was "
          "built with)\n",
          data_dir_.c_str());
      return;
    }
    std::filesystem::create_directories(data_dir_);
    std::printf("building the demo mesh at scale %d in %s ...\n", scale, data_dir_.c_str());
    std::fflush(stdout);
    const auto start = std::chrono::steady_clock::now();
    const int rc =
        RunProcess({meshwork_, "--data-dir", data_dir_, "--log-level", "warn", "demo", "--examples",
                    examples, "--scale", std::to_string(scale), "--no-serve",
                    "--bootstrap-credentials", std::string(kRootId) + ":" + kRootSecret},
                   data_dir_ + "/demo.log");
    if (rc != 0) {
      std::fprintf(stderr, "benchmark setup failed: meshwork demo exited %d (see %s/demo.log)\n",
                   rc, data_dir_.c_str());
      std::exit(1);
    }
    std::printf("  built in %.1f s\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  ~DemoMesh() {
    if (!owned_) return;
    std::error_code ignored;
    std::filesystem::remove_all(data_dir_, ignored);
  }
  DemoMesh(const DemoMesh&) = delete;
  DemoMesh& operator=(const DemoMesh&) = delete;

  const std::string& data_dir() const { return data_dir_; }
  std::string metastore() const { return data_dir_ + "/meshwork.db"; }
  std::string warehouse() const { return data_dir_ + "/warehouse"; }

 private:
  std::string meshwork_;
  std::string data_dir_;
  bool owned_;
};

/// `meshwork serve` on a mesh, HTTP and PostgreSQL on free ports of 127.0.0.1; stopped (SIGTERM)
/// when the object dies.
class MeshworkServer {
 public:
  MeshworkServer(const std::string& meshwork, const std::string& data_dir) {
    int out[2];
    if (::pipe(out) != 0) Fail("pipe");
    pid_ = ::fork();
    if (pid_ == 0) {
      // A benchmark that fails exits without unwinding: the server must not outlive it.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      ::dup2(out[1], 1);
      ::close(out[0]);
      const std::string log = data_dir + "/serve.log";
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) ::dup2(fd, 2);
      const std::string credentials = std::string(kRootId) + ":" + kRootSecret;
      ::execl(meshwork.c_str(), meshwork.c_str(), "--data-dir", data_dir.c_str(), "--log-level",
              "warn", "serve", "--http", "127.0.0.1:0", "--pg", "127.0.0.1:0",
              "--bootstrap-credentials", credentials.c_str(), "--no-scheduler",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    stdout_ = ::fdopen(out[0], "r");
    constexpr const char* kBanner = "meshwork serving PostgreSQL on ";
    char line[1024];
    while (std::fgets(line, sizeof(line), stdout_) != nullptr) {
      const std::string text(line);
      if (auto at = text.find(kBanner); at != std::string::npos) {
        const std::string address = text.substr(at + std::string(kBanner).size());
        port_ = std::atoi(address.substr(address.find(':') + 1).c_str());
        break;
      }
    }
    if (port_ == 0) Fail("meshwork serve did not print its PostgreSQL port (see serve.log)");
  }
  ~MeshworkServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_ != nullptr) std::fclose(stdout_);
  }
  MeshworkServer(const MeshworkServer&) = delete;
  MeshworkServer& operator=(const MeshworkServer&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }

 private:
  [[noreturn]] static void Fail(const char* what) {
    std::fprintf(stderr, "benchmark setup failed: %s\n", what);
    std::exit(1);
  }
  pid_t pid_ = 0;
  int port_ = 0;
  FILE* stdout_ = nullptr;
};

/// CPU seconds (user + system) a process has used so far, from /proc; -1 if unknown.
inline double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return -1;
  // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
  std::vector<std::string> fields;
  size_t start = close + 2;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    fields.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  if (fields.size() < 13) return -1;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return (std::atof(fields[11].c_str()) + std::atof(fields[12].c_str())) / ticks;
}

/// This process's CPU seconds (user + system), all threads.
inline double SelfCpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec +
         usage.ru_stime.tv_usec / 1e6;
}

}  // namespace meshwork::bench
