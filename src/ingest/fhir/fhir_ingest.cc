// FHIR R4 ingest driver: files -> (parse + check + map on worker threads) -> store, one store
// transaction per file.
//
// NDJSON is read in blocks of whole lines; worker threads parse, check and map each block
// (fhir_internal::ResourceMapper) while this thread reads ahead, checks subjects and inserts
// the blocks' records in file order. Memory stays bounded by the blocks in flight, so a
// multi-gigabyte Bulk Data file streams through one SQLite transaction.
#include "ingest/fhir/fhir_ingest.h"

#include <fcntl.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <unordered_set>
#include <utility>

#include "deid/pseudonym.h"
#include "ingest/fhir/internal/fhir_mapper.h"
#include "ingest/fhir/internal/json_view.h"

namespace oncomesh::ingest {
namespace fs = std::filesystem;
using fhir_internal::IndividualKey;
using fhir_internal::JsonView;
using fhir_internal::MappedChunk;
using fhir_internal::RecordKind;
using fhir_internal::ResourceMapper;
using fhir_internal::SubjectRef;
using fhir_internal::UrnMap;

namespace {

constexpr size_t kBlockBytes = 1 << 20;
constexpr auto kProgressInterval = std::chrono::milliseconds(250);

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// True if the file holds Patients: Bulk Data names files after their type
// ("Patient.000.ndjson"); otherwise the first line is looked at. (No std::regex: GCC 12
// reports false maybe-uninitialized warnings in it under the sanitizers.)
bool IsPatientFile(const std::string& path) {
  const std::string name = fs::path(path).filename().string();
  if (name.rfind("Patient", 0) == 0) return true;
  if (!EndsWith(name, ".ndjson")) return false;
  std::ifstream in(path, std::ios::binary);
  std::string line;
  std::getline(in, line);
  const size_t key = line.find("\"resourceType\"");
  if (key == std::string::npos) return false;
  size_t i = key + 14;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == ':')) ++i;
  return line.compare(i, 9, "\"Patient\"") == 0;
}

// What the store keeps as the file's name. A file name can identify a person (Synthea names
// its bundles after the patient), so only Bulk Data type-file names ("Condition.000.ndjson",
// "Patient.ndjson") are kept as they are.
std::string StoredName(const std::string& path, std::string_view format) {
  std::string name = fs::path(path).filename().string();
  std::string_view rest = name;
  size_t i = 0;
  while (i < rest.size() && std::isalpha(static_cast<unsigned char>(rest[i]))) ++i;
  bool bulk = i > 0;
  rest.remove_prefix(i);
  if (bulk && rest.size() > 7 && rest[0] == '.' &&
      std::isdigit(static_cast<unsigned char>(rest[1]))) {
    size_t j = 1;
    while (j < rest.size() && std::isdigit(static_cast<unsigned char>(rest[j]))) ++j;
    rest.remove_prefix(j);
  }
  bulk = bulk && rest == ".ndjson";
  if (bulk) return name;
  return std::string("(name withheld) ") + std::string(format);
}

Result<std::vector<std::string>> ExpandPaths(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& p : paths) {
    std::error_code ec;
    const fs::file_status st = fs::status(p, ec);
    if (ec || !fs::exists(st)) return NotFound("ingest: no such file or folder: " + p);
    if (fs::is_directory(st)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(p, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file()) continue;
        const std::string f = it->path().string();
        if (EndsWith(f, ".ndjson") || EndsWith(f, ".json")) found.push_back(f);
      }
      if (ec) return Unavailable("ingest: cannot read folder " + p + ": " + ec.message());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(p);
    }
  }
  std::stable_partition(files.begin(), files.end(), IsPatientFile);
  return files;
}

void Merge(std::map<std::string, int64_t>& into, const std::map<std::string, int64_t>& from) {
  for (const auto& [k, v] : from) into[k] += v;
}

const std::string& IndividualIdOf(const model::RecordBatch& b, RecordKind kind, size_t i) {
  switch (kind) {
    case RecordKind::kDiagnosis:
      return b.diagnoses[i].individual_id;
    case RecordKind::kObservation:
      return b.observations[i].individual_id;
    case RecordKind::kTreatment:
      return b.treatments[i].individual_id;
    case RecordKind::kBiosample:
      return b.biosamples[i].individual_id;
    case RecordKind::kImagingStudy:
      return b.imaging_studies[i].individual_id;
  }
  return b.diagnoses[i].individual_id;
}

// Moves record (kind, i) of `from` to the end of `to`, leaving an empty id behind (dropped by
// DropMoved). Returns its index in `to`.
size_t MoveRecord(model::RecordBatch& from, RecordKind kind, size_t i, model::RecordBatch& to) {
  auto move = [i](auto& src, auto& dst) {
    dst.push_back(std::move(src[i]));
    src[i].id.clear();
    return dst.size() - 1;
  };
  switch (kind) {
    case RecordKind::kDiagnosis:
      return move(from.diagnoses, to.diagnoses);
    case RecordKind::kObservation:
      return move(from.observations, to.observations);
    case RecordKind::kTreatment:
      return move(from.treatments, to.treatments);
    case RecordKind::kBiosample:
      return move(from.biosamples, to.biosamples);
    case RecordKind::kImagingStudy:
      return move(from.imaging_studies, to.imaging_studies);
  }
  return 0;
}

void DropMoved(model::RecordBatch& b) {
  auto drop = [](auto& v) {
    v.erase(std::remove_if(v.begin(), v.end(), [](const auto& r) { return r.id.empty(); }),
            v.end());
  };
  drop(b.diagnoses);
  drop(b.observations);
  drop(b.treatments);
  drop(b.biosamples);
  drop(b.imaging_studies);
}

// Why `text` is not JSON. simdjson (which parses) says little ("TAPE_ERROR"); nlohmann's
// messages name the place and the token, so they are asked for on this rare path.
std::string MalformedJson(const char* begin, const char* end, simdjson::error_code error) {
  try {
    const nlohmann::json parsed = nlohmann::json::parse(begin, end);
    (void)parsed;
  } catch (const nlohmann::json::exception& e) {
    return std::string("malformed JSON: ") + e.what();
  }
  return std::string("malformed JSON: ") + simdjson::error_message(error);
}

// Everything about the file being ingested that is only kept if it commits.
struct FileState {
  std::unordered_set<uint64_t> individuals;  // keys of the file's own Individuals
  model::RecordBatch pending;                // records whose subject is not known yet
  std::vector<SubjectRef> pending_subjects;
  std::map<std::string, int64_t> unknown_resource_types;
  std::map<std::string, int64_t> unmapped_codings;
  std::map<std::string, int64_t> conditions_left_out;
  std::map<std::string, int64_t> skipped_unresolved;
  std::map<std::string, int64_t> mrn_conflicts;
  int64_t resources = 0;
};

class Ingester {
 public:
  Ingester(const node::NodeDir& node, store::Store& store, const IngestOptions& options)
      : node_(node), store_(store), options_(options) {
    threads_ = options.parse_threads > 0
                   ? options.parse_threads
                   : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }

  FileOutcome IngestFile(const std::string& path, IngestReport& report) {
    FileOutcome outcome;
    outcome.path = path;
    FileState state;
    Result<store::IngestCounts> counts =
        EndsWith(path, ".ndjson") ? IngestNdjson(path, state) : IngestJson(path, state);
    outcome.resources = state.resources;
    if (!counts.ok()) {
      outcome.status = counts.status();
      return outcome;
    }
    outcome.records_added = counts->added;
    outcome.records_skipped = counts->skipped;
    outcome.already_ingested = counts->file_already_ingested;
    known_.insert(state.individuals.begin(), state.individuals.end());
    Merge(report.unknown_resource_types, state.unknown_resource_types);
    Merge(report.unmapped_codings, state.unmapped_codings);
    Merge(report.conditions_left_out, state.conditions_left_out);
    Merge(report.skipped_unresolved_subjects, state.skipped_unresolved);
    Merge(report.medical_record_numbers_taken, state.mrn_conflicts);
    return outcome;
  }

 private:
  // Takes a mapped chunk's records into the open transaction, holding back those whose subject
  // is not known yet (it may come later in the same file).
  Status Consume(MappedChunk& chunk, FileState& state, store::IngestTransaction& txn) {
    state.resources += chunk.resources;
    Merge(state.unknown_resource_types, chunk.unknown_resource_types);
    Merge(state.unmapped_codings, chunk.unmapped_codings);
    Merge(state.conditions_left_out, chunk.conditions_left_out);
    state.individuals.insert(chunk.individual_keys.begin(), chunk.individual_keys.end());
    bool moved = false;
    for (SubjectRef& s : chunk.subjects) {
      if (known_.count(s.key) || state.individuals.count(s.key)) continue;
      const std::string& individual_id = IndividualIdOf(chunk.records, s.kind, s.index);
      ASSIGN_OR_RETURN(bool exists, store_.HasIndividual(individual_id));
      if (exists) {
        known_.insert(s.key);
        continue;
      }
      s.index = static_cast<uint32_t>(MoveRecord(chunk.records, s.kind, s.index, state.pending));
      state.pending_subjects.push_back(std::move(s));
      moved = true;
    }
    if (moved) DropMoved(chunk.records);
    RETURN_IF_ERROR(KeepFirstPatientLinks(chunk, state));
    if (chunk.records.size() == 0) return Status::Ok();
    for (model::Individual& i : chunk.records.individuals) i.dataset = options_.dataset;
    return txn.Add(chunk.records);
  }

  // A medical record number stays with the first individual it was given to (in the store, or
  // earlier in this chunk): a later Patient with the same number is reported, not linked.
  Status KeepFirstPatientLinks(MappedChunk& chunk, FileState& state) {
    std::vector<model::PatientLink>& links = chunk.records.patient_links;
    std::unordered_map<std::string, std::string> owners;  // key -> individual, this chunk
    size_t kept = 0;
    for (size_t i = 0; i < links.size(); ++i) {
      std::string owner;
      if (auto it = owners.find(links[i].key); it != owners.end()) {
        owner = it->second;
      } else if (Result<model::PatientLink> stored = store_.FindPatientLink(links[i].key);
                 stored.ok()) {
        owner = stored->individual_id;
      } else if (stored.status().code() != StatusCode::kNotFound) {
        return stored.status();
      }
      if (!owner.empty() && owner != links[i].individual_id) {
        ++state.mrn_conflicts[chunk.patient_link_refs[i]];
        continue;
      }
      owners.emplace(links[i].key, links[i].individual_id);
      if (kept != i) links[kept] = std::move(links[i]);  // not onto itself: that empties it
      ++kept;
    }
    links.resize(kept);
    return Status::Ok();
  }

  // At the end of a file: the held-back records whose Patient turned up go in; the others are
  // left out and counted (or fail the file, with strict_references).
  Status ResolvePending(FileState& state, store::IngestTransaction& txn) {
    if (state.pending_subjects.empty()) return Status::Ok();
    model::RecordBatch resolved;
    for (const SubjectRef& s : state.pending_subjects) {
      if (state.individuals.count(s.key)) {
        MoveRecord(state.pending, s.kind, s.index, resolved);
        continue;
      }
      if (options_.strict_references) {
        return InvalidArgument(s.where + ": " + s.resource + ": unknown subject " + s.reference +
                               " (no such Patient in the store or in this file)");
      }
      ++state.skipped_unresolved[s.reference];
    }
    state.pending = model::RecordBatch{};
    state.pending_subjects.clear();
    if (resolved.size() == 0) return Status::Ok();
    return txn.Add(resolved);
  }

  void Progress(const std::string& path, uint64_t done, uint64_t total, int64_t resources,
                bool force) {
    if (!options_.progress) return;
    const auto now = std::chrono::steady_clock::now();
    if (!force && now - last_progress_ < kProgressInterval) return;
    last_progress_ = now;
    options_.progress(path, done, total, resources);
  }

  // ---- NDJSON: streamed through worker threads.

  // A read buffer, uninitialised. Recycled between blocks: allocating and faulting in a fresh
  // megabyte per block, and copying the bytes read into it, was measured on the thread that
  // also writes the store.
  struct Buffer {
    std::unique_ptr<char[]> data;
    size_t capacity = 0;
  };

  // Whole lines of a file. `text` holds `size` bytes of lines followed by at least
  // simdjson::SIMDJSON_PADDING bytes, so each line can be parsed in place.
  struct Block {
    uint64_t number = 0;
    int64_t first_line = 1;
    size_t size = 0;
    Buffer text;
  };

  class Workers {
   public:
    Workers(int n, const deid::Pseudonymizer& pseudonymizer, const std::string& path)
        : path_(path) {
      for (int i = 0; i < n; ++i) {
        threads_.emplace_back([this, &pseudonymizer] { Run(pseudonymizer); });
      }
    }
    ~Workers() {
      {
        std::lock_guard<std::mutex> lock(mu_);
        closing_ = true;
      }
      work_cv_.notify_all();
      for (std::thread& t : threads_) t.join();
    }

    void Submit(Block block) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        queue_.push_back(std::move(block));
      }
      work_cv_.notify_one();
    }

    // A buffer of at least `capacity` bytes: a recycled one if there is one big enough.
    Buffer TakeBuffer(size_t capacity) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!buffers_.empty() && buffers_.back().capacity >= capacity) {
          Buffer b = std::move(buffers_.back());
          buffers_.pop_back();
          return b;
        }
      }
      return Buffer{std::make_unique_for_overwrite<char[]>(capacity), capacity};
    }

    // Hands a consumed chunk back to be destroyed on a worker thread: freeing its records (a
    // few strings each, allocated by the workers) was a tenth of the store-writing thread's
    // time.
    void Dispose(MappedChunk chunk) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        trash_.push_back(std::move(chunk));
      }
      work_cv_.notify_one();
    }

    // Waits for the result of block `number`.
    MappedChunk Take(uint64_t number) {
      std::unique_lock<std::mutex> lock(mu_);
      done_cv_.wait(lock, [&] { return done_.count(number) > 0; });
      MappedChunk chunk = std::move(done_[number]);
      done_.erase(number);
      return chunk;
    }

    void Cancel() { cancelled_ = true; }

   private:
    void Run(const deid::Pseudonymizer& pseudonymizer) {
      ResourceMapper mapper(pseudonymizer, nullptr);
      simdjson::dom::parser parser;  // reused: its buffers grow to the longest line, once
      for (;;) {
        Block block;
        MappedChunk trash;
        bool have_block = false;
        {
          std::unique_lock<std::mutex> lock(mu_);
          work_cv_.wait(lock, [&] { return closing_ || !queue_.empty() || !trash_.empty(); });
          if (!trash_.empty()) {
            trash = std::move(trash_.front());
            trash_.pop_front();
          } else if (!queue_.empty()) {
            block = std::move(queue_.front());
            queue_.pop_front();
            have_block = true;
          } else {
            return;  // closing, nothing left
          }
        }
        if (!have_block) continue;  // `trash` is destroyed here, off the store's thread
        MappedChunk chunk;
        if (!cancelled_) MapBlock(block, parser, mapper, chunk);
        {
          std::lock_guard<std::mutex> lock(mu_);
          done_.emplace(block.number, std::move(chunk));
          buffers_.push_back(std::move(block.text));
        }
        done_cv_.notify_all();
      }
    }

    void MapBlock(const Block& block, simdjson::dom::parser& parser, ResourceMapper& mapper,
                  MappedChunk& chunk) {
      const char* p = block.text.data.get();
      const char* const end = p + block.size;
      int64_t line = block.first_line;
      std::string where;
      for (; p < end; ++line) {
        const char* nl =
            static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
        const char* line_end = nl != nullptr ? nl : end;
        const char* next = nl != nullptr ? nl + 1 : end;
        const char* q = p;
        while (q < line_end && (*q == ' ' || *q == '\t' || *q == '\r')) ++q;
        if (q == line_end) {  // blank lines are allowed between resources
          p = next;
          continue;
        }
        where.assign(path_).append(":").append(std::to_string(line));
        simdjson::dom::element resource;
        const simdjson::error_code error =
            parser.parse(p, static_cast<size_t>(line_end - p), /*realloc_if_needed=*/false)
                .get(resource);
        if (error != simdjson::SUCCESS) {
          ++chunk.resources;
          chunk.status = InvalidArgument(where + ": " + MalformedJson(p, line_end, error));
          return;
        }
        if (!mapper.Map(JsonView(resource), where, {}, chunk)) return;
        p = next;
      }
    }

    std::string path_;
    std::mutex mu_;
    std::condition_variable work_cv_, done_cv_;
    std::deque<Block> queue_;
    std::deque<MappedChunk> trash_;
    std::vector<Buffer> buffers_;
    std::map<uint64_t, MappedChunk> done_;
    bool closing_ = false;
    std::atomic<bool> cancelled_{false};
    std::vector<std::thread> threads_;
  };

  Result<store::IngestCounts> IngestNdjson(const std::string& path, FileState& state) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Unavailable("ingest: cannot open " + path + ": " + std::strerror(errno));
    struct FdCloser {
      int fd;
      ~FdCloser() { ::close(fd); }
    } closer{fd};
    std::error_code ec;
    const uint64_t total = fs::file_size(path, ec);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

    ASSIGN_OR_RETURN(std::unique_ptr<store::IngestTransaction> txn,
                     store_.BeginIngest({StoredName(path, "fhir-ndjson"), "", "fhir-ndjson"}));
    deid::Sha256 sha;
    Workers workers(threads_, node_.pseudonymizer(), path);
    const uint64_t max_in_flight = static_cast<uint64_t>(threads_) * 2 + 2;
    uint64_t submitted = 0, taken = 0, bytes_read = 0;
    int64_t next_line = 1;
    Status failure;
    constexpr size_t kPadding = simdjson::SIMDJSON_PADDING;

    auto take_one = [&] {
      MappedChunk chunk = workers.Take(taken++);
      if (!failure.ok()) return;
      if (!chunk.status.ok()) {
        state.resources += chunk.resources;
        failure = chunk.status;
      } else {
        failure = Consume(chunk, state, *txn);
      }
      if (!failure.ok()) workers.Cancel();
      workers.Dispose(std::move(chunk));
    };
    // Sends the first `size` bytes of `text` (whole lines) to the workers.
    auto submit = [&](Buffer text, size_t size) {
      std::memset(text.data.get() + size, ' ', kPadding);
      Block block;
      block.number = submitted++;
      block.first_line = next_line;
      next_line += std::count(text.data.get(), text.data.get() + size, '\n');
      block.size = size;
      block.text = std::move(text);
      workers.Submit(std::move(block));
      while (submitted - taken >= max_in_flight) take_one();
    };

    // Bytes are read straight into the block's buffer; what follows its last newline (an
    // incomplete line) is copied to the start of the next one.
    Buffer cur = workers.TakeBuffer(kBlockBytes + kPadding);
    size_t filled = 0;
    for (;;) {
      if (!failure.ok()) break;
      if (filled + kPadding == cur.capacity) {  // a line longer than the buffer: grow it
        Buffer bigger = workers.TakeBuffer(cur.capacity * 2);
        std::memcpy(bigger.data.get(), cur.data.get(), filled);
        cur = std::move(bigger);
      }
      char* const dst = cur.data.get() + filled;
      const ssize_t n = ::read(fd, dst, cur.capacity - kPadding - filled);
      if (n < 0) {
        if (errno == EINTR) continue;
        failure = Unavailable("ingest: reading " + path + ": " + std::strerror(errno));
        break;
      }
      if (n == 0) break;
      const size_t len = static_cast<size_t>(n);
      sha.Update(dst, len);
      bytes_read += len;
      filled += len;
      // The bytes before `dst` hold no newline (they are the carried incomplete line).
      const char* last_nl = static_cast<const char*>(memrchr(dst, '\n', len));
      if (last_nl == nullptr) continue;
      const size_t complete = static_cast<size_t>(last_nl - cur.data.get()) + 1;
      const size_t rest = filled - complete;
      Buffer next = workers.TakeBuffer(std::max(kBlockBytes, rest * 2) + kPadding);
      std::memcpy(next.data.get(), cur.data.get() + complete, rest);
      submit(std::move(cur), complete);
      cur = std::move(next);
      filled = rest;
      Progress(path, bytes_read, total, state.resources, false);
    }
    if (failure.ok() && filled > 0) submit(std::move(cur), filled);
    while (taken < submitted) take_one();
    if (failure.ok()) failure = ResolvePending(state, *txn);
    Progress(path, bytes_read, total, state.resources, true);
    if (!failure.ok()) {
      txn->Rollback();
      return failure;
    }
    return txn->Commit(sha.HexDigest());
  }

  // ---- JSON: a Bundle or a single resource, read whole.

  Result<store::IngestCounts> IngestJson(const std::string& path, FileState& state) {
    simdjson::padded_string text;
    if (simdjson::padded_string::load(path).get(text) != simdjson::SUCCESS) {
      return Unavailable("ingest: cannot open " + path);
    }
    const std::string sha256 = deid::Sha256Hex(std::string_view(text));
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (const simdjson::error_code error = parser.parse(text).get(root); error) {
      return InvalidArgument(path + ": " +
                             MalformedJson(text.data(), text.data() + text.size(), error));
    }
    const JsonView doc(root);
    if (!doc.is_object()) return InvalidArgument(path + ": expected a FHIR resource or Bundle");
    const bool bundle = doc["resourceType"].str() == "Bundle";
    const char* format = bundle ? "fhir-bundle" : "fhir-json";

    MappedChunk chunk;
    UrnMap urns;
    if (!bundle) {
      ResourceMapper mapper(node_.pseudonymizer(), nullptr);
      if (!mapper.Map(doc, path, {}, chunk)) return chunk.status;
    } else {
      RETURN_IF_ERROR(MapBundle(path, doc, urns, chunk));
    }
    Progress(path, 1, 1, chunk.resources, true);

    ASSIGN_OR_RETURN(bool known, store_.HasSourceFile(sha256));
    if (known) {
      state.resources = chunk.resources;
      Merge(state.unknown_resource_types, chunk.unknown_resource_types);
      Merge(state.unmapped_codings, chunk.unmapped_codings);
      Merge(state.conditions_left_out, chunk.conditions_left_out);
      store::IngestCounts counts;
      counts.file_already_ingested = true;
      counts.skipped = static_cast<int64_t>(chunk.records.size());
      return counts;
    }
    ASSIGN_OR_RETURN(std::unique_ptr<store::IngestTransaction> txn,
                     store_.BeginIngest({StoredName(path, format), "", format}));
    Status st = Consume(chunk, state, *txn);
    if (st.ok()) st = ResolvePending(state, *txn);
    if (!st.ok()) {
      txn->Rollback();
      return st;
    }
    return txn->Commit(sha256);
  }

  // Maps a Bundle's entries, Patients first so that the others' subjects resolve. Reports
  // every problem found (up to 10), naming each entry by its index in Bundle.entry.
  Status MapBundle(const std::string& path, JsonView bundle, UrnMap& urns, MappedChunk& out) {
    static const char* const kTypes[] = {"collection", "transaction", "batch", "searchset"};
    const JsonView type = bundle["type"];
    if (!type.is_string()) {
      return InvalidArgument(path + ": Bundle.type is missing or not a string");
    }
    if (std::find(std::begin(kTypes), std::end(kTypes), type.str()) == std::end(kTypes)) {
      return InvalidArgument(path + ": Bundle.type '" + std::string(type.str()) +
                             "' is not supported (collection, transaction, batch, searchset)");
    }
    const JsonView entries = bundle["entry"];
    if (!entries) return Status::Ok();
    if (!entries.is_array()) {
      return InvalidArgument(path + ": Bundle.entry: expected an array (cardinality 0..*)");
    }
    std::vector<JsonView> resources;
    std::vector<std::string> fallback_ids;
    size_t i = 0;
    for (const JsonView e : entries.items()) {
      const std::string where = path + ": entry " + std::to_string(i++);
      resources.emplace_back();
      fallback_ids.emplace_back();
      if (!e.is_object()) return InvalidArgument(where + ": expected an object");
      const JsonView full_url = e["fullUrl"];
      if (full_url && !full_url.is_string()) {
        return InvalidArgument(where + ": Bundle.entry.fullUrl: expected a string");
      }
      const JsonView resource = e["resource"];
      if (!resource) continue;  // e.g. a DELETE in a transaction
      if (!resource.is_object()) {
        return InvalidArgument(where + ": Bundle.entry.resource: expected an object");
      }
      resources.back() = resource;
      const std::string url(full_url.str());
      const size_t cut = url.find_last_of(":/");
      fallback_ids.back() = cut == std::string::npos ? url : url.substr(cut + 1);
      if (!url.empty()) {
        const JsonView id = resource["id"];
        urns[url] = {std::string(resource["resourceType"].str()),
                     id.is_string() ? std::string(id.str()) : fallback_ids.back()};
      }
    }
    ResourceMapper mapper(node_.pseudonymizer(), &urns);
    // Every problem is reported (up to 10 resources), each naming its entry.
    std::vector<std::string> problems;
    size_t failed_resources = 0;
    const std::string prefix = path + ": ";
    auto map_entries = [&](bool patients) {
      for (size_t i = 0; i < resources.size(); ++i) {
        if (!resources[i]) continue;
        const bool is_patient = resources[i]["resourceType"].str() == "Patient";
        if (is_patient != patients) continue;
        if (!mapper.Map(resources[i], prefix + "entry " + std::to_string(i), fallback_ids[i],
                        out)) {
          ++failed_resources;
          std::string m = out.status.message();
          if (m.rfind(prefix, 0) == 0) m.erase(0, prefix.size());
          if (problems.size() < 10) problems.push_back(std::move(m));
          out.status = Status::Ok();
        }
      }
    };
    map_entries(true);
    map_entries(false);
    if (problems.empty()) return Status::Ok();
    std::string message = prefix + std::to_string(out.problems) +
                          (out.problems == 1 ? " problem" : " problems") + " in " +
                          std::to_string(failed_resources) +
                          (failed_resources == 1 ? " entry: " : " entries: ");
    for (size_t i = 0; i < problems.size(); ++i) {
      if (i > 0) message += "; ";
      message += problems[i];
    }
    if (failed_resources > problems.size()) message += "; …";
    return InvalidArgument(message);
  }

  const node::NodeDir& node_;
  store::Store& store_;
  const IngestOptions& options_;
  int threads_ = 1;
  std::unordered_set<uint64_t> known_;  // keys of individuals known to be in the store
  std::chrono::steady_clock::time_point last_progress_{};
};

}  // namespace

Result<IngestReport> IngestFhir(const node::NodeDir& node, store::Store& store,
                                const std::vector<std::string>& paths,
                                const IngestOptions& options) {
  // The dataset, as an id of node.yaml (the first one when none is named).
  IngestOptions resolved = options;
  const std::vector<node::DatasetConfig>& datasets = node.config().datasets;
  if (resolved.dataset.empty() && !datasets.empty()) resolved.dataset = datasets.front().id;
  if (std::none_of(datasets.begin(), datasets.end(),
                   [&](const node::DatasetConfig& d) { return d.id == resolved.dataset; })) {
    std::string known;
    for (const node::DatasetConfig& d : datasets) known += (known.empty() ? "" : ", ") + d.id;
    return InvalidArgument("dataset: " + node.dir() + "/node.yaml has no dataset '" +
                           resolved.dataset + "' (its datasets: " + known + ")");
  }
  // Individuals stored before datasets partitioned them are in the first (as the node reads them).
  if (!resolved.dataset.empty() && !datasets.empty())
    RETURN_IF_ERROR(store.SetEmptyDatasets(datasets.front().id));
  ASSIGN_OR_RETURN(std::vector<std::string> files, ExpandPaths(paths));
  IngestReport report;
  Ingester ingester(node, store, resolved);
  for (const std::string& file : files) {
    report.files.push_back(ingester.IngestFile(file, report));
  }
  return report;
}

Result<IngestReport> IngestFhir(const node::NodeDir& node, store::Store& store,
                                const std::vector<std::string>& paths, const ProgressFn& progress) {
  IngestOptions options;
  options.progress = progress;
  return IngestFhir(node, store, paths, options);
}

}  // namespace oncomesh::ingest
