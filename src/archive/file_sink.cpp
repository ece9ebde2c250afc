#define XXH_INLINE_ALL
#include "archive/file_sink.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "archive/table.hpp"
#include "nexdb/archive.hpp"

namespace nexdb::archive_detail {
namespace {

namespace fs = std::filesystem;

/// An open file descriptor, closed by the destructor.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

[[noreturn]] void fail(std::string_view what, const fs::path& path) {
  throw ArchiveError(fmt::format("{} {}: {}", what, path.string(), std::strerror(errno)));
}

void append_csv_field(std::string& out, const Value& v) {
  if (v.is_null()) return;  // an empty unquoted field; "" is the empty string
  const std::string text = exact_text(v);
  if (text.find_first_of(",\"\r\n") == std::string::npos && !text.empty()) {
    out += text;
    return;
  }
  out += '"';
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

nlohmann::json json_of(const Value& v) {
  switch (v.type()) {
    case ValueType::null:
      return nullptr;
    case ValueType::boolean:
      return v.as<bool>();
    case ValueType::integer:
      return v.as<std::int64_t>();
    case ValueType::real:
      return v.as<double>();
    default:
      return exact_text(v);  // text, timestamps, bytes as \x..., numerics as their exact text
  }
}

std::string gzip(const std::string& text) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw ArchiveError("zlib: deflateInit2 failed");
  }
  std::string out(deflateBound(&z, text.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw ArchiveError("zlib: deflate did not finish");
  return out;
}

std::string gunzip(const std::string& data) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) throw ArchiveError("zlib: inflateInit2 failed");
  std::string out;
  char buffer[65536];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buffer);
    z.avail_out = sizeof buffer;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - z.avail_out);
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END) throw ArchiveError("the gzip member written does not decompress");
  return out;
}

}  // namespace

FileSink::FileSink(fs::path path) : path_(std::move(path)) {
  std::string name = path_.filename().string();
  if (name.ends_with(".gz")) {
    gzip_ = true;
    name.resize(name.size() - 3);
  }
  if (name.ends_with(".csv")) {
    format_ = FileFormat::csv;
  } else if (name.ends_with(".jsonl") || name.ends_with(".ndjson")) {
    format_ = FileFormat::jsonl;
  } else {
    throw ConfigError(fmt::format(
        "archive file {}: name it .csv or .jsonl (optionally followed by .gz)", path_.string()));
  }
}

std::uint64_t FileSink::size() const {
  std::error_code ec;
  const auto n = fs::file_size(path_, ec);
  return ec ? 0 : n;
}

void FileSink::truncate(std::uint64_t size) const {
  Fd f{::open(path_.c_str(), O_WRONLY | O_CLOEXEC)};
  if (f.fd < 0) fail("cannot open", path_);
  if (::ftruncate(f.fd, static_cast<off_t>(size)) != 0 || ::fsync(f.fd) != 0)
    fail("cannot truncate", path_);
}

std::string FileSink::encode(const Rows& rows, bool header) const {
  std::string out;
  const auto& columns = rows.columns();
  if (format_ == FileFormat::csv) {
    if (header) {
      for (std::size_t c = 0; c < columns.size(); ++c) {
        if (c > 0) out += ',';
        append_csv_field(out, Value(columns[c]));
      }
      out += "\r\n";
    }
    for (Row row : rows) {
      for (std::size_t c = 0; c < columns.size(); ++c) {
        if (c > 0) out += ',';
        append_csv_field(out, row[c]);
      }
      out += "\r\n";
    }
    return out;
  }
  for (Row row : rows) {
    nlohmann::ordered_json line = nlohmann::ordered_json::object();
    for (std::size_t c = 0; c < columns.size(); ++c) line[columns[c]] = json_of(row[c]);
    out += line.dump() + "\n";
  }
  return out;
}

std::uint64_t FileSink::append(const Rows& rows, std::uint64_t offset) const {
  const std::string text = encode(rows, offset == 0);
  const std::string chunk = gzip_ ? gzip(text) : text;
  if (const auto parent = path_.parent_path(); !parent.empty()) fs::create_directories(parent);
  Fd f{::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)};
  if (f.fd < 0) fail("cannot open", path_);
  // Whatever lies beyond the committed end is an unrecorded batch of a crashed run.
  if (::ftruncate(f.fd, static_cast<off_t>(offset)) != 0) fail("cannot truncate", path_);
  std::size_t written = 0;
  while (written < chunk.size()) {
    const ssize_t n = ::pwrite(f.fd, chunk.data() + written, chunk.size() - written,
                               static_cast<off_t>(offset + written));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("cannot write", path_);
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(f.fd) != 0) fail("cannot fsync", path_);
  // Verify: the bytes on disk decode to exactly the batch's text.
  std::string back(chunk.size(), '\0');
  if (::pread(f.fd, back.data(), back.size(), static_cast<off_t>(offset)) !=
      static_cast<ssize_t>(back.size())) {
    fail("cannot read back", path_);
  }
  const std::string decoded = gzip_ ? gunzip(back) : back;
  if (XXH3_64bits(decoded.data(), decoded.size()) != XXH3_64bits(text.data(), text.size())) {
    throw ArchiveError(
        fmt::format("{}: the batch read back differs from what was written", path_.string()));
  }
  return offset + chunk.size();
}

}  // namespace nexdb::archive_detail
