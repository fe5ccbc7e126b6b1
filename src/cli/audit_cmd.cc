// oncomesh audit verify --dir NODE_DIR [--jwks FILE] [--archive DIR]
// oncomesh audit archive --dir NODE_DIR --before T --to DIR
// oncomesh audit verify --file EXPORT --jwks FILE
// oncomesh audit export --dir NODE_DIR --from T1 --to T2 [--out FILE]
// oncomesh audit jwks   --dir NODE_DIR [--out FILE]
//
// Exit codes: 0 the chain holds (or the export was written), 1 a problem was found or the
// command failed (the first problem is printed: file, line, seq, what), 2 bad usage.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>

#include "audit/archive.h"
#include "audit/entry.h"
#include "audit/verify.h"
#include "cli/commands.h"
#include "node/node_dir.h"
#include "util/json.h"

namespace oncomesh::cli {
namespace {

struct AuditOptions {
  std::string dir;
  std::string file;
  std::string jwks;
  std::string from, to;
  std::string out;
  std::string archive;
  std::string before;
};

int Fail(const std::string& command, const std::string& message) {
  std::cerr << "oncomesh audit " << command << ": " << message << "\n";
  return 1;
}

// The keys that verify checkpoints: the JWKS file when given (a key kept apart from the node
// is the stronger proof), else the node's own key's public half.
Result<std::vector<auth::Jwk>> Keys(const std::optional<node::NodeDir>& node,
                                    const std::string& jwks_path) {
  if (!jwks_path.empty()) {
    std::ifstream in(jwks_path);
    if (!in) return NotFound("cannot read " + jwks_path);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSIGN_OR_RETURN(const nlohmann::json jwks, ParseJson(text, jwks_path));
    Result<std::vector<auth::Jwk>> keys = audit::ParseJwks(jwks);
    if (!keys.ok()) return keys.status().WithContext(jwks_path);
    return keys;
  }
  return audit::ParseJwks(audit::PublicJwks({node->signing_key()}));
}

void PrintReport(const std::string& what, const audit::VerifyReport& r) {
  if (!r.ok()) {
    std::cout << "FAILED " << what << "\n  " << r.problem->ToString() << "\n";
    if (r.entries > 0) {
      std::cout << "  the " << r.entries << " entries before it verify (seq " << r.first_seq
                << " to " << r.last_seq << ")\n";
    }
    return;
  }
  std::cout << "OK " << what << ": " << r.entries << " entries, seq " << r.first_seq << " to "
            << r.last_seq << ", " << r.first_time << " to " << r.last_time << ", " << r.files.size()
            << " file(s)\n";
  std::cout << "  " << r.checkpoints << " signed checkpoint(s)";
  if (r.last_checkpoint_seq != 0) std::cout << "; the last at seq " << r.last_checkpoint_seq;
  std::cout << "\n";
  if (r.ends_with_close) {
    std::cout << "  ends with the checkpoint of a clean close\n";
  } else if (r.unsigned_tail > 0) {
    std::cout << "  " << r.unsigned_tail
              << " entries after the last checkpoint are proved by the chain only, not yet "
                 "signed (the node is running, stopped without closing, or the tail was "
                 "changed)\n";
  } else {
    std::cout << "  not closed (the node is running or stopped without closing)\n";
  }
  if (r.anchor_seq != 0) {
    std::cout << "  starts after the signed archive anchor at seq " << r.anchor_seq
              << (r.archive_verified ? "; the archived segments verify and join it\n"
                                     : " (archived segments not given)\n");
  }
  std::cout << "  last entry: seq " << r.last_seq << " hash " << r.last_hash
            << "\n  (record it outside the node: a later log that lacks it lost its tail)\n";
  for (const std::string& note : r.notes) std::cout << "  note: " << note << "\n";
}

int Verify(const AuditOptions& o) {
  if (o.dir.empty() == o.file.empty()) {
    return Fail("verify", "give either --dir NODE_DIR (the node's log) or --file EXPORT");
  }
  if (!o.file.empty() && o.jwks.empty()) {
    return Fail("verify", "an export is verified against the node's public keys: add --jwks FILE");
  }
  std::optional<node::NodeDir> node;
  if (!o.dir.empty() && o.jwks.empty()) {
    Result<node::NodeDir> opened = node::NodeDir::Open(o.dir);
    if (!opened.ok()) return Fail("verify", opened.status().message());
    node.emplace(std::move(*opened));
  }
  Result<std::vector<auth::Jwk>> keys = Keys(node, o.jwks);
  if (!keys.ok()) return Fail("verify", keys.status().message());
  if (!o.file.empty()) {
    Result<audit::VerifyReport> report = audit::VerifyExportFile(o.file, *keys);
    if (!report.ok()) return Fail("verify", report.status().message());
    PrintReport("audit export " + o.file, *report);
    return report->ok() ? 0 : 1;
  }
  const std::string audit_dir = o.dir + "/audit";
  Result<audit::VerifyReport> report = audit::VerifyLogDirectory(audit_dir, *keys, o.archive);
  if (!report.ok()) return Fail("verify", report.status().message());
  PrintReport("audit log " + audit_dir, *report);
  return report->ok() ? 0 : 1;
}

int Export(const AuditOptions& o) {
  Result<std::string> from = audit::CanonicalTime(o.from);
  Result<std::string> to = audit::CanonicalTime(o.to);
  if (!from.ok()) return Fail("export", "--from: " + from.status().message());
  if (!to.ok()) return Fail("export", "--to: " + to.status().message());
  Result<node::NodeDir> node = node::NodeDir::Open(o.dir);
  if (!node.ok()) return Fail("export", node.status().message());
  std::optional<node::NodeDir> n(std::move(*node));
  Result<std::vector<auth::Jwk>> keys = Keys(n, o.jwks);
  if (!keys.ok()) return Fail("export", keys.status().message());
  // Written beside the target and renamed, so a failed export leaves no partial file behind.
  std::ofstream file;
  const std::string tmp = o.out + ".part";
  if (!o.out.empty()) {
    file.open(tmp, std::ios::trunc);
    if (!file) return Fail("export", "cannot write " + tmp);
  }
  std::ostream& out = o.out.empty() ? std::cout : file;
  Result<audit::ExportSummary> summary =
      audit::ExportPeriod(n->audit_dir(), *keys, *from, *to, n->config().name, out);
  if (!o.out.empty()) {
    file.close();
    if (!summary.ok() || !file) {
      std::remove(tmp.c_str());
    } else if (std::rename(tmp.c_str(), o.out.c_str()) != 0) {
      return Fail("export", "cannot write " + o.out);
    }
  }
  if (!summary.ok()) return Fail("export", summary.status().message());
  std::cerr << "exported " << summary->period_entries << " entries of [" << *from << ", " << *to
            << "), with context seq " << summary->first_seq << " to " << summary->last_seq
            << (summary->signed_to_end ? "; signed to its end by a checkpoint"
                                       : "; NOT signed to its end: no checkpoint after the "
                                         "period yet (export again later for a signed one)")
            << "\n";
  return 0;
}

int Archive(const AuditOptions& o) {
  Result<std::string> before = audit::CanonicalTime(o.before);
  if (!before.ok()) return Fail("archive", "--before: " + before.status().message());
  Result<node::NodeDir> node = node::NodeDir::Open(o.dir);
  if (!node.ok()) return Fail("archive", node.status().message());
  std::optional<node::NodeDir> n(std::move(*node));
  Result<std::vector<auth::Jwk>> keys = Keys(n, "");
  if (!keys.ok()) return Fail("archive", keys.status().message());
  Result<audit::ArchiveSummary> summary = audit::ArchiveSegments(
      n->audit_dir(), o.archive, *before, n->signing_key(), n->config().name, *keys);
  if (!summary.ok()) return Fail("archive", summary.status().message());
  for (const audit::ArchivedSegment& s : summary->moved) {
    std::cout << "archived " << s.file << ": seq " << s.first_seq << " to " << s.last_seq << ", "
              << s.bytes << " bytes, sha256 " << s.sha256 << "\n";
  }
  if (!summary->why_not.empty()) std::cout << "kept from there on: " << summary->why_not << "\n";
  if (summary->anchor) {
    std::cout << "anchor: seq " << summary->anchor->seq << " hash " << summary->anchor->hash << " ("
              << o.dir << "/audit/ANCHOR.json, and a copy in " << o.archive << ")\n";
  }
  return 0;
}

int Jwks(const AuditOptions& o) {
  Result<node::NodeDir> node = node::NodeDir::Open(o.dir);
  if (!node.ok()) return Fail("jwks", node.status().message());
  const std::string text = audit::PublicJwks({node->signing_key()}).dump(2) + "\n";
  if (o.out.empty()) {
    std::cout << text;
    return 0;
  }
  std::ofstream out(o.out, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Fail("jwks", "cannot write " + o.out);
  return 0;
}

}  // namespace

void RegisterAuditCommand(CLI::App& app) {
  CLI::App* audit = app.add_subcommand("audit", "Verify and export the node's audit log");
  audit->require_subcommand(1);

  auto v = std::make_shared<AuditOptions>();
  CLI::App* verify = audit->add_subcommand(
      "verify",
      "Check every hash, link and signed checkpoint of the node's audit log (--dir) or of an "
      "export (--file, with --jwks); print the first problem and exit 1 if one is found");
  verify->add_option("--dir", v->dir, "Node directory (verifies NODE_DIR/audit)");
  verify->add_option("--file", v->file, "An export written by 'oncomesh audit export'");
  verify->add_option("--jwks", v->jwks,
                     "The node's public keys (JWKS); default with --dir: the node's own key");
  verify->add_option("--archive", v->archive,
                     "With --dir: also verify the segments 'audit archive' moved to this folder "
                     "and that they join the log's anchor");
  verify->callback([v] { SetExitCode(Verify(*v)); });

  auto a = std::make_shared<AuditOptions>();
  CLI::App* archive = audit->add_subcommand(
      "archive",
      "Move the log's oldest segments, all of whose entries are older than --before and signed "
      "by a later checkpoint, to --to, leaving a signed anchor the remaining log verifies from "
      "(docs/audit.md, Retention); safe while the node runs");
  archive->add_option("--dir", a->dir, "Node directory")->required();
  archive
      ->add_option("--before", a->before,
                   "Archive segments whose entries are all before this time (YYYY-MM-DD or "
                   "RFC 3339)")
      ->required();
  archive->add_option("--to", a->archive, "The archive folder (created; segments accumulate there)")
      ->required();
  archive->callback([a] { SetExitCode(Archive(*a)); });

  auto e = std::make_shared<AuditOptions>();
  CLI::App* exp = audit->add_subcommand(
      "export",
      "Write the entries of a period as JSON lines for a supervisory authority, verified first, "
      "with the context that lets 'audit verify --file' check them");
  exp->add_option("--dir", e->dir, "Node directory")->required();
  exp->add_option("--from", e->from, "Start of the period, included (YYYY-MM-DD or RFC 3339)")
      ->required();
  exp->add_option("--to", e->to, "End of the period, excluded (YYYY-MM-DD or RFC 3339)")
      ->required();
  exp->add_option("--out", e->out, "Output file (default: standard output)");
  exp->add_option("--jwks", e->jwks, "Verify with these public keys (default: the node's key)");
  exp->callback([e] { SetExitCode(Export(*e)); });

  auto j = std::make_shared<AuditOptions>();
  CLI::App* jwks = audit->add_subcommand(
      "jwks", "Print the node's public key as a JWKS: what a supervisor verifies exports with");
  jwks->add_option("--dir", j->dir, "Node directory")->required();
  jwks->add_option("--out", j->out, "Output file (default: standard output)");
  jwks->callback([j] { SetExitCode(Jwks(*j)); });
}

}  // namespace oncomesh::cli
