#include "node/leftovers.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace oncomesh::node {

namespace fs = std::filesystem;

Result<int> LockWriters(const NodeDir& node, const std::string& name, int operation) {
  const std::string path = node.dir() + "/" + name + ".lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Unavailable("cannot open " + path + ": " + std::strerror(errno));
  int rc;
  do {
    rc = ::flock(fd, operation);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) return -1;
    return Unavailable("cannot lock " + path + ": " + std::strerror(error));
  }
  return fd;
}

int64_t RemoveUnreferenced(const NodeDir& node, const std::string& folder,
                           const std::set<std::string>& kept) {
  std::error_code ec;
  std::vector<fs::path> doomed;
  const std::string root = node.dir() + "/" + folder;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string rel = folder + "/" + fs::relative(it->path(), root, ec).generic_string();
    const bool temporary = it->path().filename().string().rfind("tmp-", 0) == 0;
    if (temporary || !kept.count(rel)) doomed.push_back(it->path());
  }
  int64_t removed = 0;
  for (const fs::path& p : doomed) removed += fs::remove(p, ec) ? 1 : 0;
  return removed;
}

}  // namespace oncomesh::node
