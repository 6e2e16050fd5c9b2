#include <cstdio>

#include "cli/commands.h"
#include "common/clock.h"
#include "report/html_report.h"
#include "report/root_reader.h"

namespace txflow {
namespace {

// The page goes through a FileSystem like every other write, so --out may be
// a local path or an s3:// URI; it is replaced whole, never seen half written.
Status WriteOut(const std::string& out, const std::string& html) {
  TXFLOW_ASSIGN_OR_RETURN(auto where, SplitObjectUri(out));
  TXFLOW_ASSIGN_OR_RETURN(auto fs, OpenFileSystem(where.root_uri));
  return fs->Write(where.key, html).status();
}

}  // namespace

int RunReport(const Args& args) {
  std::string root_uri, out;
  uint64_t table_rows = report::ReportLimits{}.table_rows;
  StorageFlags storage;
  FlagSet flags("txflow report",
                "Reads a root (detections and their evidence, per-chunk stats, "
                "quarantine, offset)\nand writes one self-contained HTML page "
                "with charts and a searchable table.\nReads only: safe beside "
                "a running chunk, detect or run on the same root.");
  flags.String("root", &root_uri, "URI", "the root to report on", true);
  flags.String("out", &out, "PATH", "the HTML file to write (path or s3://)",
               true);
  flags.Uint("table-rows", &table_rows,
             "detections listed in the table, the most recent ones");
  // Only the endpoint of the storage flags: the report never writes to the
  // root, so --assume-single-writer would mean nothing here.
  flags.String("s3-endpoint", &storage.s3_endpoint, "URL",
               "S3-compatible endpoint for s3:// URIs (default: "
               "AWS_ENDPOINT_URL, else AWS)");
  if (int rc = ParseOrExit(flags, "report", args); rc >= 0) return rc;
  ApplyStorageFlags(storage);

  auto root = OpenFileSystem(root_uri);
  if (!root.ok()) return Fail("report", root.status());
  report::ReportLimits limits;
  limits.table_rows = table_rows;
  auto data =
      report::ReadReportData(root->get(), limits, SystemClock::Get()->NowMs());
  if (!data.ok()) return Fail("report", data.status());
  const std::string html = report::RenderReport(*data, limits);
  if (Status s = WriteOut(out, html); !s.ok()) return Fail("report", s);
  std::printf(
      "report: %llu detections in %llu files, %llu chunks with stats, %llu "
      "bad rows, %zu files skipped -> %s (%.1f KB)\n",
      static_cast<unsigned long long>(data->detections),
      static_cast<unsigned long long>(data->detection_files),
      static_cast<unsigned long long>(data->stats_chunks),
      static_cast<unsigned long long>(data->bad_rows),
      data->problems.size() + static_cast<size_t>(data->more_problems),
      out.c_str(), html.size() / 1e3);
  if (std::string s3 = S3RequestSummary(); !s3.empty()) {
    std::printf("%s\n", s3.c_str());
  }
  return kExitOk;
}

}  // namespace txflow
