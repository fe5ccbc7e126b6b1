#include "util/embedded_table.h"

#include <cstdio>
#include <cstdlib>
#include <optional>

#include "util/embedded_data.h"

namespace oncomesh {

std::vector<std::vector<std::string>> EmbeddedTableRows(std::string_view name, size_t columns) {
  const std::optional<std::string_view> text = EmbeddedFile(name);
  if (!text) {
    std::fprintf(stderr, "%.*s is not compiled in\n", static_cast<int>(name.size()), name.data());
    std::abort();
  }
  std::vector<std::vector<std::string>> rows;
  size_t pos = 0;
  bool header = true;
  while (pos < text->size()) {
    size_t eol = text->find('\n', pos);
    if (eol == std::string_view::npos) eol = text->size();
    const std::string_view line = text->substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty() || line[0] == '#') continue;
    if (header) {
      header = false;
      continue;
    }
    std::vector<std::string> fields;
    size_t start = 0;
    for (;;) {
      const size_t tab = line.find('\t', start);
      fields.emplace_back(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (fields.size() != columns) {
      std::fprintf(stderr, "%.*s: a row has %zu fields, not %zu\n", static_cast<int>(name.size()),
                   name.data(), fields.size(), columns);
      std::abort();
    }
    rows.push_back(std::move(fields));
  }
  return rows;
}

}  // namespace oncomesh
