// Tab-separated tables compiled into the binary (util/embedded_data.h): data/genes/*.tsv,
// data/dicom/body_parts.tsv…
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace oncomesh {

// The rows of an embedded table, each split on tabs, without '#' comment lines, blank lines
// and the header row (the first other line). A table that is not compiled in, or a row with
// another number of fields than `columns`, is a defect of the build: it is reported on stderr
// naming the file, and the program aborts.
std::vector<std::vector<std::string>> EmbeddedTableRows(std::string_view name, size_t columns);

}  // namespace oncomesh
