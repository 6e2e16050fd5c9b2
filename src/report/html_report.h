// The report page: one self-contained HTML document (inline CSS, inline SVG,
// a few lines of script for the search box; no external resource, and a
// Content-Security-Policy that forbids loading any). Every value read from
// the root is HTML-escaped.
#ifndef TXFLOW_REPORT_HTML_REPORT_H_
#define TXFLOW_REPORT_HTML_REPORT_H_

#include <string>

#include "report/report_data.h"

namespace txflow::report {

std::string RenderReport(const ReportData& data, const ReportLimits& limits);

}  // namespace txflow::report

#endif  // TXFLOW_REPORT_HTML_REPORT_H_
