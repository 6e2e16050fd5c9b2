// txflow._txflow: the kernel for Python engines (the Spark job), bound
// thinly with nanobind. Every rule lives in the C++ it calls: this file only
// converts values. Text crosses as str: UTF-8 in and out, with bytes that are
// not UTF-8 carried as lone surrogates ("surrogateescape"), so any byte
// string round-trips; bytes objects are accepted as input too.
//
// Errors: a failed Status becomes txflow.TxflowError (a ValueError) whose
// text is the Status message.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "chunker/chunk_key.h"
#include "chunker/offset_state.h"
#include "csv/row_decoder.h"
#include "detector/chunk_decoder.h"
#include "detector/detection.h"
#include "detector/detection_file.h"
#include "detector/importance_table.h"
#include "detector/merchant_state.h"

namespace nb = nanobind;

namespace txflow {
namespace {

struct TxflowError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void Check(const Status& s) {
  if (!s.ok()) throw TxflowError(s.message());
}

// The bytes of a str (UTF-8, lone surrogates back to their bytes) or bytes
// object. The view is valid while `obj` lives, or while *keep does.
std::string_view Bytes(nb::handle obj, nb::object* keep, const char* what) {
  PyObject* o = obj.ptr();
  if (PyUnicode_Check(o)) {
    Py_ssize_t n = 0;
    const char* p = PyUnicode_AsUTF8AndSize(o, &n);  // cached, no copy
    if (p) return {p, static_cast<size_t>(n)};
    PyErr_Clear();
    PyObject* b = PyUnicode_AsEncodedString(o, "utf-8", "surrogateescape");
    if (!b) throw nb::python_error();
    *keep = nb::steal(b);
    o = b;
  }
  if (PyBytes_Check(o)) {
    return {PyBytes_AS_STRING(o), static_cast<size_t>(PyBytes_GET_SIZE(o))};
  }
  throw nb::type_error((std::string(what) + " must be str or bytes").c_str());
}

nb::str Str(std::string_view v) {
  PyObject* s = PyUnicode_DecodeUTF8(
      v.data(), static_cast<Py_ssize_t>(v.size()), "surrogateescape");
  if (!s) throw nb::python_error();
  return nb::steal<nb::str>(s);
}

// Gender from its text as the chunk holds it ("F", "M", anything else).
Gender GenderArg(nb::handle g) {
  if (g.is_none()) return Gender::kOther;
  nb::object keep;
  return GenderOf(Bytes(g, &keep, "gender"));
}

nb::str GenderStr(Gender g) {
  return Str(g == Gender::kFemale ? "F" : g == Gender::kMale ? "M" : "");
}

int64_t Int(PyObject* o, const char* what) {
  const long long v = PyLong_AsLongLong(o);
  if (v == -1 && PyErr_Occurred()) {
    PyErr_Clear();
    throw nb::type_error((std::string(what) + " must be an int").c_str());
  }
  return v;
}

// A sequence's items without copying them (list, tuple, or any iterable).
class Items {
 public:
  Items(nb::handle seq, const char* what) {
    PyObject* f = PySequence_Fast(seq.ptr(), what);
    if (!f) throw nb::python_error();
    fast_ = nb::steal(f);
    n_ = static_cast<size_t>(PySequence_Fast_GET_SIZE(f));
    items_ = PySequence_Fast_ITEMS(f);
  }
  size_t size() const { return n_; }
  PyObject* operator[](size_t i) const { return items_[i]; }

 private:
  nb::object fast_;
  PyObject** items_ = nullptr;
  size_t n_ = 0;
};

void CheckOverflow(const MerchantState& m) {
  if (m.overflowed_customer()) {
    throw TxflowError("the amount or weight sum of customer '" +
                      Printable(*m.overflowed_customer()) + "' at merchant '" +
                      Printable(m.id()) + "' leaves the exact 64-bit range");
  }
}

void ApplyOne(MerchantState& m, nb::handle customer, nb::handle gender,
              int64_t amount_paise, std::optional<int64_t> weight_micro) {
  nb::object keep;
  const std::string_view c = Bytes(customer, &keep, "customer");
  const uint64_t h = MerchantState::HashCustomer(c);
  if (weight_micro) {
    m.Apply(c, h, GenderArg(gender), amount_paise, *weight_micro);
  } else {
    m.ApplyUnweighted(c, h, GenderArg(gender), amount_paise);
  }
  CheckOverflow(m);
}

void ApplyWeightedOne(MerchantState& m, nb::handle customer, nb::handle gender,
                      int64_t amount_paise, nb::handle category,
                      const ImportanceTable& importance) {
  nb::object keep_c, keep_k;
  const std::string_view c = Bytes(customer, &keep_c, "customer");
  m.ApplyWeighted(c, MerchantState::HashCustomer(c), GenderArg(gender),
                  amount_paise, Bytes(category, &keep_k, "category"),
                  importance);
  CheckOverflow(m);
}

// One chunk's rows of this merchant, in chunk order. With `importance` the
// weights come from it (by `categories`), else from `weights_micro` when
// given, else they are the amounts.
void ApplyRows(MerchantState& m, nb::handle customers, nb::handle genders,
               nb::handle amounts_paise, nb::handle categories,
               const ImportanceTable* importance, nb::handle weights_micro) {
  const Items c(customers, "customers must be a sequence");
  const Items g(genders, "genders must be a sequence");
  const Items a(amounts_paise, "amounts_paise must be a sequence");
  const size_t n = c.size();
  if (g.size() != n || a.size() != n) {
    throw nb::value_error(
        "customers, genders and amounts_paise differ in length");
  }
  std::optional<Items> k, w;
  if (importance) {
    if (categories.is_none()) {
      throw nb::value_error("categories are needed with an importance table");
    }
    k.emplace(categories, "categories must be a sequence");
    if (k->size() != n) throw nb::value_error("categories differ in length");
  } else if (!weights_micro.is_none()) {
    w.emplace(weights_micro, "weights_micro must be a sequence");
    if (w->size() != n) throw nb::value_error("weights_micro differ in length");
  }
  for (size_t i = 0; i < n; ++i) {
    nb::object keep_c, keep_k;
    const std::string_view cust = Bytes(c[i], &keep_c, "customer");
    const uint64_t h = MerchantState::HashCustomer(cust);
    const Gender gen = GenderArg(g[i]);
    const int64_t paise = Int(a[i], "amount_paise");
    if (importance) {
      m.ApplyWeighted(cust, h, gen, paise, Bytes((*k)[i], &keep_k, "category"),
                      *importance);
    } else if (w) {
      m.Apply(cust, h, gen, paise, Int((*w)[i], "weight_micro"));
    } else {
      m.ApplyUnweighted(cust, h, gen, paise);
    }
    if (m.overflowed_customer()) break;
  }
  CheckOverflow(m);
}

// Names as str (surrogateescape) or, with as_bytes, as bytes: the form an
// engine that must keep every byte (Spark's binary columns) takes.
nb::object Name(std::string_view v, bool as_bytes) {
  if (as_bytes) return nb::bytes(v.data(), v.size());
  return Str(v);
}

std::optional<Pattern> PatternOf(std::string_view id) {
  for (Pattern p : {Pattern::kUpgrade, Pattern::kChild, Pattern::kDei}) {
    if (PatternId(p) == id) return p;
  }
  return std::nullopt;
}

Pattern PatternArg(nb::handle id) {
  nb::object keep;
  const auto p = PatternOf(Bytes(id, &keep, "pattern_id"));
  if (!p) throw nb::value_error("unknown pattern id");
  return *p;
}

nb::list Evaluate(MerchantState& m, const Thresholds& t, bool as_bytes) {
  std::vector<Detection> found;
  m.Evaluate(t, &found);
  std::sort(found.begin(), found.end());
  nb::list out;
  for (const Detection& d : found) {
    out.append(nb::make_tuple(Str(PatternId(d.pattern)),
                              Name(d.customer, as_bytes),
                              Name(d.merchant, as_bytes)));
  }
  return out;
}

nb::object FindPair(const MerchantState& m, nb::handle customer) {
  nb::object keep;
  const auto p = m.FindPair(Bytes(customer, &keep, "customer"));
  if (!p) return nb::none();
  return nb::make_tuple(p->count, p->amount_paise, p->weight_micro,
                        GenderStr(p->gender));
}

// Detections of several chunks, each row (chunk_start, pattern_id, customer,
// merchant, ...), put in SPEC 4.1 order: chunk, then pattern, merchant,
// customer bytewise. Rows are returned as given (extra fields kept).
nb::list OrderDetections(nb::handle rows) {
  const Items items(rows, "rows must be a sequence");
  struct Key {
    uint64_t chunk;
    Detection d;
    size_t index;
  };
  std::vector<Key> keys;
  keys.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const Items row(items[i], "a row must be a sequence");
    if (row.size() < 4) {
      throw nb::value_error(
          "a row is (chunk_start, pattern_id, customer, merchant, ...)");
    }
    nb::object k1, k2;
    Key k{static_cast<uint64_t>(Int(row[0], "chunk_start")), {}, i};
    k.d.pattern = PatternArg(row[1]);
    k.d.customer = std::string(Bytes(row[2], &k1, "customer"));
    k.d.merchant = std::string(Bytes(row[3], &k2, "merchant"));
    keys.push_back(std::move(k));
  }
  std::stable_sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
    if (a.chunk != b.chunk) return a.chunk < b.chunk;
    return a.d < b.d;
  });
  nb::list out;
  for (const Key& k : keys) out.append(nb::borrow(items[k.index]));
  return out;
}

// Detections from rows (pattern_id, customer, merchant, detected_at_ms).
std::vector<Detection> DetectionRows(nb::handle rows) {
  const Items items(rows, "rows must be a sequence");
  std::vector<Detection> ds;
  ds.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const Items row(items[i], "a row must be a sequence");
    if (row.size() != 4) {
      throw nb::value_error(
          "a row is (pattern_id, customer, merchant, detected_at_ms)");
    }
    nb::object k1, k2;
    Detection d;
    d.pattern = PatternArg(row[0]);
    d.customer = std::string(Bytes(row[1], &k1, "customer"));
    d.merchant = std::string(Bytes(row[2], &k2, "merchant"));
    d.detected_at_ms = Int(row[3], "detected_at_ms");
    ds.push_back(std::move(d));
  }
  return ds;
}

// One detection file's bytes.
nb::bytes EncodeFile(nb::handle rows, int64_t ystart_ms, int tz_minutes) {
  const std::string text =
      EncodeDetectionFile(DetectionRows(rows), ystart_ms, tz_minutes);
  return nb::bytes(text.data(), text.size());
}

// One detection file: (key, bytes).
nb::tuple DetectionFile(uint64_t seq, nb::handle rows, int64_t ystart_ms,
                        int tz_minutes) {
  const std::vector<Detection> ds = DetectionRows(rows);
  if (ds.empty()) throw nb::value_error("a detection file has rows");
  const std::string text = EncodeDetectionFile(ds, ystart_ms, tz_minutes);
  return nb::make_tuple(Str(DetectionFileKeyFor(seq, ds)),
                        nb::bytes(text.data(), text.size()));
}

nb::bytes Serialize(const MerchantState& m) {
  std::string out;
  m.Serialize(&out);
  return nb::bytes(out.data(), out.size());
}

std::unique_ptr<MerchantState> Restore(nb::bytes image) {
  std::string_view in(image.c_str(), image.size());
  auto m = MerchantState::Deserialize(&in);
  Check(m.status());
  if (!in.empty()) {
    throw TxflowError("merchant state: " + std::to_string(in.size()) +
                      " bytes after the image");
  }
  return std::move(m).value();
}

// Decodes `text` into *dec; the rows' views stay valid while `text` and
// *keep_text live.
void Decode(ChunkDecoder* dec, nb::handle text, nb::handle key, uint64_t start,
            bool need_category, nb::object* keep_text) {
  nb::object keep_k;
  const std::string_view t = Bytes(text, keep_text, "text");
  Check(dec->Decode(t, Bytes(key, &keep_k, "key"), start, need_category));
}

nb::tuple DecodeChunk(nb::handle text, nb::handle key, uint64_t start,
                      bool need_category) {
  nb::object keep;
  ChunkDecoder dec;
  Decode(&dec, text, key, start, need_category, &keep);
  nb::list rows;
  for (const DecodedRow& r : dec.rows()) {
    rows.append(nb::make_tuple(Str(r.customer), Str(r.merchant),
                               Str(r.category), GenderStr(r.gender), r.paise));
  }
  return nb::make_tuple(rows, Str(dec.quarantine()), dec.bad_rows());
}

// The same decoding as columns, names as bytes: what a columnar engine
// (pandas, Arrow, Spark) loads without a per-row Python object.
nb::dict DecodeChunkColumns(nb::handle text, nb::handle key, uint64_t start,
                            bool need_category) {
  nb::object keep;
  ChunkDecoder dec;
  Decode(&dec, text, key, start, need_category, &keep);
  nb::list customer, merchant, category, gender, paise, record;
  for (const DecodedRow& r : dec.rows()) {
    customer.append(Name(r.customer, true));
    merchant.append(Name(r.merchant, true));
    category.append(Name(r.category, true));
    gender.append(GenderStr(r.gender));
    paise.append(r.paise);
    record.append(r.record);
  }
  nb::dict out;
  out["customer"] = customer;
  out["merchant"] = merchant;
  out["category"] = category;
  out["gender"] = gender;
  out["amount_paise"] = paise;
  out["record"] = record;
  out["quarantine"] =
      nb::bytes(dec.quarantine().data(), dec.quarantine().size());
  out["bad_rows"] = dec.bad_rows();
  out["records"] = dec.records();
  return out;
}

}  // namespace
}  // namespace txflow

NB_MODULE(_txflow, m) {
  using namespace txflow;
  m.doc() = "txflow's detection kernel (C++), bound thinly.";
  nb::exception<TxflowError>(m, "TxflowError", PyExc_ValueError);

  const Thresholds d;
  nb::class_<Thresholds>(m, "Thresholds",
                         "Pattern thresholds (SPEC 4.3), the C++ defaults.")
      .def(nb::init<>())
      .def(
          "__init__",
          [](Thresholds* t, uint64_t upgrade_min_txns,
             uint32_t upgrade_count_pct, uint32_t upgrade_weight_pct,
             uint64_t child_min_txns, int64_t child_max_avg_paise,
             uint64_t dei_min_female) {
            new (t) Thresholds{upgrade_min_txns,    upgrade_count_pct,
                               upgrade_weight_pct,  child_min_txns,
                               child_max_avg_paise, dei_min_female};
          },
          nb::kw_only(), nb::arg("upgrade_min_txns") = d.upgrade_min_txns,
          nb::arg("upgrade_count_pct") = d.upgrade_count_pct,
          nb::arg("upgrade_weight_pct") = d.upgrade_weight_pct,
          nb::arg("child_min_txns") = d.child_min_txns,
          nb::arg("child_max_avg_paise") = d.child_max_avg_paise,
          nb::arg("dei_min_female") = d.dei_min_female)
      .def_rw("upgrade_min_txns", &Thresholds::upgrade_min_txns)
      .def_rw("upgrade_count_pct", &Thresholds::upgrade_count_pct)
      .def_rw("upgrade_weight_pct", &Thresholds::upgrade_weight_pct)
      .def_rw("child_min_txns", &Thresholds::child_min_txns)
      .def_rw("child_max_avg_paise", &Thresholds::child_max_avg_paise)
      .def_rw("dei_min_female", &Thresholds::dei_min_female);

  nb::class_<ImportanceTable>(m, "ImportanceTable",
                              "The importance table (SPEC 2.2), immutable.")
      .def_static(
          "parse",
          [](nb::handle text, const std::string& uri) {
            nb::object keep;
            auto t = ImportanceTable::Parse(Bytes(text, &keep, "text"), uri);
            Check(t.status());
            return std::move(t).value();
          },
          nb::arg("text"), nb::arg("uri"),
          "Parses the table's CSV text; `uri` names it in errors.")
      .def(
          "find",
          [](const ImportanceTable& t, nb::handle customer, nb::handle merchant,
             nb::handle category) {
            nb::object k1, k2, k3;
            return t.Find(Bytes(customer, &k1, "customer"),
                          Bytes(merchant, &k2, "merchant"),
                          Bytes(category, &k3, "category"));
          },
          nb::arg("customer"), nb::arg("merchant"), nb::arg("category"),
          "The mean weight in 10^-6 units, or None when no row matches.")
      .def_prop_ro("fingerprint", &ImportanceTable::fingerprint)
      .def("__len__", &ImportanceTable::size);

  nb::class_<MerchantState>(m, "MerchantState",
                            "One merchant's detector state (SPEC 4.2).")
      .def(
          "__init__",
          [](MerchantState* s, nb::handle merchant_id) {
            nb::object keep;
            new (s) MerchantState(
                std::string(Bytes(merchant_id, &keep, "merchant_id")));
          },
          nb::arg("merchant_id"))
      .def_prop_ro("merchant_id",
                   [](const MerchantState& s) { return Str(s.id()); })
      .def_prop_ro("customers", &MerchantState::customers)
      .def("apply", &ApplyOne, nb::arg("customer"), nb::arg("gender"),
           nb::arg("amount_paise"), nb::arg("weight_micro") = nb::none(),
           "Applies one good row; without weight_micro its weight is its "
           "amount.")
      .def("apply_weighted", &ApplyWeightedOne, nb::arg("customer"),
           nb::arg("gender"), nb::arg("amount_paise"), nb::arg("category"),
           nb::arg("importance"),
           "Applies one good row weighted by the importance table.")
      .def(
          "apply_rows",
          [](MerchantState& s, nb::handle customers, nb::handle genders,
             nb::handle amounts, nb::handle categories,
             const ImportanceTable* importance, nb::handle weights) {
            ApplyRows(s, customers, genders, amounts, categories, importance,
                      weights);
          },
          nb::arg("customers"), nb::arg("genders"), nb::arg("amounts_paise"),
          nb::arg("categories") = nb::none(),
          nb::arg("importance").none() = nb::none(),
          nb::arg("weights_micro") = nb::none(),
          "Applies one chunk's rows of this merchant, in chunk order.")
      .def("evaluate", &Evaluate, nb::arg("thresholds"),
           nb::arg("as_bytes") = false,
           "New detections since the last call, as (pattern_id, customer, "
           "merchant) in SPEC 4.1 order within the merchant; names as bytes "
           "with as_bytes.")
      .def_prop_ro("total", &MerchantState::total,
                   "Transactions of this merchant.")
      .def_prop_ro("female_customers", &MerchantState::female_customers)
      .def_prop_ro("male_customers", &MerchantState::male_customers)
      .def("pair", &FindPair, nb::arg("customer"),
           "(count, amount_paise, weight_micro, gender) of the customer "
           "here, or None.")
      .def("serialize", &Serialize, "The state as bytes (no derived data).")
      .def_static("restore", &Restore, nb::arg("image"),
                  "The state serialize() gave.");

  m.def("decode_chunk", &DecodeChunk, nb::arg("text"), nb::arg("key"),
        nb::arg("start"), nb::arg("need_category"),
        "Decodes a chunk: (rows, quarantine_text, bad_rows); a row is "
        "(customer, merchant, category, gender, amount_paise) with gender "
        "'F', 'M' or '' (neither).");
  m.def("decode_chunk_columns", &DecodeChunkColumns, nb::arg("text"),
        nb::arg("key"), nb::arg("start"), nb::arg("need_category"),
        "decode_chunk as a dict of columns (customer, merchant, category as "
        "bytes; gender; amount_paise; record) plus quarantine (bytes), "
        "bad_rows and records.");
  m.def(
      "action_type",
      [](nb::handle pattern_id) {
        return Str(ActionType(PatternArg(pattern_id)));
      },
      nb::arg("pattern_id"), "'PatId1' -> 'UPGRADE', and so on.");
  m.def("order_detections", &OrderDetections, nb::arg("rows"),
        "Rows (chunk_start, pattern_id, customer, merchant, ...) in SPEC 4.1 "
        "order.");
  m.def("encode_detection_file", &EncodeFile, nb::arg("rows"),
        nb::arg("ystart_ms"), nb::arg("tz_offset_minutes"),
        "A detection file's bytes; rows are (pattern_id, customer, merchant, "
        "detected_at_ms).");
  m.def("detection_file", &DetectionFile, nb::arg("seq"), nb::arg("rows"),
        nb::arg("ystart_ms"), nb::arg("tz_offset_minutes"),
        "Detection file `seq` holding rows (pattern_id, customer, merchant, "
        "detected_at_ms): (key, bytes), named by its last row's second.");
  m.attr("DETECTIONS_PER_FILE") = kDetectionsPerFile;
  nb::class_<DetectionFileSpan>(
      m, "DetectionFileSpan",
      "A detection file to write: its seq and its detections, pending[first : "
      "first + count].")
      .def(nb::init<uint64_t, uint64_t, uint64_t>(), nb::arg("seq"),
           nb::arg("first"), nb::arg("count"))
      .def_ro("seq", &DetectionFileSpan::seq)
      .def_ro("first", &DetectionFileSpan::first)
      .def_ro("count", &DetectionFileSpan::count)
      .def("__eq__", [](const DetectionFileSpan& a,
                        const DetectionFileSpan& b) { return a == b; })
      .def("__repr__", [](const DetectionFileSpan& f) {
        return "DetectionFileSpan(seq=" + std::to_string(f.seq) +
               ", first=" + std::to_string(f.first) +
               ", count=" + std::to_string(f.count) + ")";
      });
  nb::class_<DetectionFileCursor>(
      m, "DetectionFileCursor",
      "The split of detections into files of DETECTIONS_PER_FILE (SPEC 4.4): "
      "given the files written and the detections pending after them, which "
      "files to write. Counts only; the caller keeps the detections.")
      .def(nb::init<uint64_t, uint64_t>(), nb::arg("files") = 0,
           nb::arg("pending") = 0)
      .def("add", &DetectionFileCursor::Add, nb::arg("n"),
           "Appends n detections; returns the complete files at the front of "
           "the pending list, in order (indexes into the list with the n "
           "appended). Fewer than DETECTIONS_PER_FILE stay pending.")
      .def("flush", &DetectionFileCursor::Flush,
           "add(0), then the pending rest as a last, shorter file.")
      .def("file_seq_of", &DetectionFileCursor::FileSeqOf, nb::arg("i"),
           "The seq of the file pending detection i (0: the front) goes into.")
      .def_prop_ro("files", &DetectionFileCursor::files)
      .def_prop_ro("pending", &DetectionFileCursor::pending);
  m.def(
      "detection_file_key",
      [](int64_t epoch, uint64_t seq) { return DetectionFileKey(epoch, seq); },
      nb::arg("epoch_seconds"), nb::arg("seq"),
      "'detections/detections_<epoch>_<seq:06>.csv'");
  m.def("parse_detection_file_seq", &ParseDetectionFileSeq, nb::arg("key"),
        "The <seq> of a detection file key, or None.");
  m.def("chunk_key", &ChunkKey, nb::arg("first_record"),
        "'landing_zone/chunk-<first_record:012>.csv'");
  m.def("parse_chunk_key", &ParseChunkKey, nb::arg("key"),
        "The first record of a chunk key, or None.");
  m.def("quarantine_key", &QuarantineKey, nb::arg("first_record"),
        "'quarantine/chunk-<first_record:012>.csv'");
  m.attr("OFFSET_KEY") = std::string(kOffsetKey);
  m.def(
      "offset_next_record",
      [](nb::handle text, const std::string& uri) {
        nb::object keep;
        auto s = DecodeOffsetState(Bytes(text, &keep, "text"), uri);
        Check(s.status());
        return s->next_record;
      },
      nb::arg("text"), nb::arg("uri"),
      "The chunker's next record from state/offset.csv's text.");
  m.def(
      "parse_timezone",
      [](std::string_view tz) {
        auto r = ParseTimezone(tz);
        Check(r.status());
        return *r;
      },
      nb::arg("text"), "Minutes east of UTC: 'Asia/Kolkata', 'UTC', '+HH:MM'.");
  m.def("format_timestamp", &FormatTimestamp, nb::arg("unix_ms"),
        nb::arg("offset_minutes"), "ISO 8601 with milliseconds and offset.");
  m.def(
      "parse_amount_paise",
      [](std::string_view text) {
        const auto p = ParseDecimal(text, 2);
        if (!p) {
          throw TxflowError("'" + std::string(text) +
                            "' is not a decimal number");
        }
        return *p;
      },
      nb::arg("text"), "Rupees as exact paise: '23' -> 2300.");
}
