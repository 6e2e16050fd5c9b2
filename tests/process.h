// Test helpers that run the built txflow binary as a child process.
#ifndef TXFLOW_TESTS_PROCESS_H_
#define TXFLOW_TESTS_PROCESS_H_

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "txflow/file_system.h"

namespace txflow::testing {

// Environment changes for a child: name -> value, or name -> nullopt to unset.
using EnvChanges =
    std::vector<std::pair<std::string, std::optional<std::string>>>;

// Starts `binary args...` with stdout/stderr sent to `log` (or /dev/null).
inline pid_t SpawnBinary(const char* binary,
                         const std::vector<std::string>& args,
                         const std::string& log = "",
                         const EnvChanges& env = {}) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    for (const auto& [name, value] : env) {
      if (value) {
        ::setenv(name.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
    const int fd = ::open(log.empty() ? "/dev/null" : log.c_str(),
                          O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(binary, argv.data());
    ::_exit(127);
  }
  return pid;
}

// Starts `txflow args...` (TXFLOW_BINARY) like SpawnBinary.
inline pid_t Spawn(const std::vector<std::string>& args,
                   const std::string& log = "", const EnvChanges& env = {}) {
  return SpawnBinary(TXFLOW_BINARY, args, log, env);
}

#ifdef TXFLOW_FAULT_INJECTION_BINARY
// Starts the fault-injection build of txflow (TXFLOW_FAULT_INJECTION_BINARY)
// with TXFLOW_FAULT_INJECTION=spec; see docs/reliability.md.
inline pid_t SpawnWithFaults(const std::vector<std::string>& args,
                             const std::string& log, const std::string& spec) {
  return SpawnBinary(TXFLOW_FAULT_INJECTION_BINARY, args, log,
                     {{"TXFLOW_FAULT_INJECTION", spec}});
}
#endif

// Exit code, or 128 + signal for a killed child.
inline int Wait(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

inline std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every regular file under `dir`, by relative path, with its content.
inline std::map<std::string, std::string> Tree(
    const std::filesystem::path& dir) {
  std::map<std::string, std::string> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) {
      out[std::filesystem::relative(e.path(), dir).string()] = Slurp(e.path());
    }
  }
  return out;
}

inline bool IsS3(const std::string& root) {
  return root.rfind("s3://", 0) == 0;
}

// Tree() for a local directory; for an s3:// root, every object under it (S3
// has no staging objects to hide).
inline std::map<std::string, std::string> TreeOf(const std::string& root) {
  if (!IsS3(root)) return Tree(root);
  std::map<std::string, std::string> out;
  auto fs = OpenFileSystem(root);
  if (!fs.ok()) return out;
  auto list = (*fs)->List({});
  if (!list.ok()) return out;
  for (const auto& info : *list) {
    auto data = (*fs)->Read(info.key);
    if (data.ok()) out[info.key] = std::move(data).value();
  }
  return out;
}

// Copies the local file `path` to `<root>/<its name>` through the FileSystem
// (for s3:// roots: one PUT, or a multipart upload when it is large).
inline void Upload(const std::string& path, const std::string& root) {
  auto fs = OpenFileSystem(root);
  ASSERT_TRUE(fs.ok()) << fs.status().ToString();
  auto w = (*fs)->Write(std::filesystem::path(path).filename().string(),
                        Slurp(path));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
}

// Removes everything under a local directory or an s3:// root.
inline void RemoveTree(const std::string& root) {
  if (!IsS3(root)) {
    std::filesystem::remove_all(root);
    return;
  }
  auto fs = OpenFileSystem(root);
  if (!fs.ok()) return;
  auto list = (*fs)->List({});
  if (!list.ok()) return;
  for (const auto& info : *list) (*fs)->Delete(info.key).IgnoreError();
}

// The detection files of a root (local or s3://) without their two time
// columns, in sequence order, one string per file.
inline std::vector<std::string> DetectionsWithoutTimes(
    const std::string& root) {
  std::map<std::string, std::string> by_seq;  // "_<seq>.csv", zero-padded
  for (const auto& [name, bytes] : TreeOf(root + "/detections")) {
    // Only the detection files: not the evidence/ sidecars beside them.
    if (name.rfind("detections_", 0) != 0) continue;
    std::string stripped, line;
    std::stringstream in(bytes);
    while (std::getline(in, line)) {
      const size_t second = line.find(',', line.find(',') + 1);
      stripped += line.substr(second + 1) + "\n";
    }
    by_seq[name.substr(name.rfind('_'))] = stripped;
  }
  std::vector<std::string> out;
  for (auto& [seq, text] : by_seq) out.push_back(text);
  return out;
}

// The evidence files under <root>/detections/evidence/ (docs/formats.md) in
// file sequence order, after checking that exactly the detection files have
// one (none missing, none without its detection file). Deterministic: a run
// that equals another's detections has the same evidence byte for byte.
inline std::vector<std::string> EvidenceFiles(const std::string& root) {
  std::set<std::string> detection_names;
  for (const auto& [name, bytes] : TreeOf(root + "/detections")) {
    if (name.rfind("detections_", 0) == 0) detection_names.insert(name);
  }
  std::set<std::string> evidence_names;
  std::map<std::string, std::string> by_seq;
  for (const auto& [name, bytes] : TreeOf(root + "/detections/evidence")) {
    evidence_names.insert(name);
    by_seq[name.substr(name.rfind('_'))] = bytes;
  }
  EXPECT_EQ(evidence_names, detection_names)
      << root << ": evidence files must match the detection files";
  std::vector<std::string> out;
  for (auto& [seq, text] : by_seq) out.push_back(text);
  return out;
}

}  // namespace txflow::testing

#endif  // TXFLOW_TESTS_PROCESS_H_
