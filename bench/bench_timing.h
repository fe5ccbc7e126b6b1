// Timing for the side-by-side benchmarks: run a thing many times, report p50/p99/min.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

namespace oncomesh::bench {

using Clock = std::chrono::steady_clock;

inline double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

struct Timing {
  double p50_ms = NAN, p99_ms = NAN, min_ms = NAN;
  size_t runs = 0;
};

inline Timing Summarize(std::vector<double> ms) {
  Timing t;
  if (ms.empty()) return t;
  std::sort(ms.begin(), ms.end());
  t.runs = ms.size();
  t.min_ms = ms.front();
  t.p50_ms = ms[(ms.size() - 1) / 2];
  t.p99_ms = ms[static_cast<size_t>(std::ceil(0.99 * static_cast<double>(ms.size()))) - 1];
  return t;
}

// `warmup` untimed runs, then at least `reps` timed ones and at least `min_seconds` of them.
template <typename F>
Timing TimeRuns(int warmup, int reps, double min_seconds, F&& run) {
  for (int i = 0; i < warmup; ++i) run();
  std::vector<double> ms;
  const auto start = Clock::now();
  while (static_cast<int>(ms.size()) < reps || Seconds(start, Clock::now()) < min_seconds) {
    const auto a = Clock::now();
    run();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
  }
  return Summarize(std::move(ms));
}

}  // namespace oncomesh::bench
