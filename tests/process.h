// Test helpers that run the built txflow binary as a child process.
#ifndef TXFLOW_TESTS_PROCESS_H_
#define TXFLOW_TESTS_PROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace txflow::testing {

// Starts `txflow args...` with stdout/stderr sent to `log` (or /dev/null).
inline pid_t Spawn(const std::vector<std::string>& args,
                   const std::string& log = "") {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(log.empty() ? "/dev/null" : log.c_str(),
                          O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(TXFLOW_BINARY));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(TXFLOW_BINARY, argv.data());
    ::_exit(127);
  }
  return pid;
}

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

// The detection files of a root without their two time columns, in
// sequence order, one string per file.
inline std::vector<std::string> DetectionsWithoutTimes(
    const std::filesystem::path& root) {
  std::map<std::string, std::string> by_seq;  // "_<seq>.csv", zero-padded
  if (!std::filesystem::exists(root / "detections")) return {};
  for (const auto& e :
       std::filesystem::directory_iterator(root / "detections")) {
    const std::string name = e.path().filename().string();
    std::string stripped, line;
    std::stringstream in(Slurp(e.path()));
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

}  // namespace txflow::testing

#endif  // TXFLOW_TESTS_PROCESS_H_
