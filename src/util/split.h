// Splitting text on a separator, without copying.
#pragma once

#include <string_view>
#include <vector>

namespace oncomesh {

// The parts of `text` between separators, empty ones included ("a,,b" -> "a", "", "b"; "" -> "").
// The views point into `text`.
std::vector<std::string_view> Split(std::string_view text, char separator);

}  // namespace oncomesh
