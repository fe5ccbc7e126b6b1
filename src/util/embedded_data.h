// Files compiled into the binary from the repository's data/ (vocabularies, reference tables)
// and web/ folders, by cmake/embed.cmake.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace oncomesh {

// The bytes of an embedded file by its path relative to the repository root
// (e.g. "data/vocab/terms.tsv"), or nullopt. The data lives for the whole program.
std::optional<std::string_view> EmbeddedFile(std::string_view name);

// Every embedded path.
std::vector<std::string_view> EmbeddedFileNames();

}  // namespace oncomesh
