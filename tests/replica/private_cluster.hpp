// A private primary + 2 replicas for tests that stop or promote servers (never the shared one).
#pragma once

#include <string>

namespace nexdb::test {

class PrivateCluster {
 public:
  /// Starts scripts/pg-cluster on a port derived from the pid (24000-26999: clear of the shared
  /// fixture's ports and of the kernel's ephemeral range) in its own directory; a slot whose
  /// ports are taken is left for the next one, up to three times.
  PrivateCluster();
  /// Stops every server and removes the directory.
  ~PrivateCluster();
  PrivateCluster(const PrivateCluster&) = delete;
  PrivateCluster& operator=(const PrivateCluster&) = delete;

  int port() const { return port_; }
  std::string uri(int index) const;  // 0 = primary, 1/2 = replicas
  /// pg_ctl stop -m immediate on instance "primary", "replica1" or "replica2" (a crash).
  void kill(const std::string& instance) const;
  /// pg_ctl restart -m fast (what an operator's restart does: sessions end with 57P01).
  void restart(const std::string& instance) const;

 private:
  int run(const std::string& command) const;
  int port_ = 0;
  std::string dir_;
  std::string script_;
};

}  // namespace nexdb::test
