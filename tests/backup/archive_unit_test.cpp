// Archive internals that need no server: names, keys, file encodings and the gzip sink.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "archive/file_sink.hpp"
#include "archive/table.hpp"
#include "nexdb/archive.hpp"
#include "support/test_env.hpp"

namespace nexdb::test {
namespace {

using namespace archive_detail;

TEST(ArchiveNames, TablesAreValidatedAndQuoted) {
  const TableName t = parse_table_name("sales.orders");
  EXPECT_EQ(t.schema, "sales");
  EXPECT_EQ(t.quoted, "\"sales\".\"orders\"");
  EXPECT_EQ(parse_table_name("we\"ird").quoted, "\"we\"\"ird\"");
  EXPECT_THROW(parse_table_name(""), ConfigError);
  EXPECT_THROW(parse_table_name(std::string(80, 'x')), ConfigError);
}

TEST(ArchiveKeys, RoundTripThroughTheCheckpoint) {
  const Timestamp ts = *parse_timestamp("2025-03-04 05:06:07.123456+00");
  for (const Value& v : {Value(std::int64_t{-42}), Value("a:b:c"), Value(ts), Value(2.5),
                         Value(std::string(300, 'k'))}) {
    EXPECT_EQ(decode_key(encode_key(v)), v) << encode_key(v);
  }
  EXPECT_THROW(encode_key(Value(Bytes{std::byte{1}})), ArchiveError);
  EXPECT_THROW(decode_key("zz:1"), ArchiveError);
}

TEST(ArchiveText, IsExactAndNeverTruncated) {
  EXPECT_EQ(exact_text(Value(std::string(100, 'a'))), std::string(100, 'a'));
  EXPECT_EQ(exact_text(Value(0.1)), "0.1");
  EXPECT_EQ(exact_text(Value(Bytes{std::byte{0xde}, std::byte{0xad}})), "\\xdead");
  EXPECT_EQ(exact_text(Value()), "");
  EXPECT_EQ(placeholder(Dialect::postgres, 3), "$3");
  EXPECT_EQ(values_list(Dialect::postgres, 2, 2, 5), "($5, $6), ($7, $8)");
  EXPECT_EQ(values_list(Dialect::sqlite, 1, 3, 1), "(?, ?, ?)");
}

Rows sample_rows() {
  return Rows({"id", "note", "at"},
              {Value(1), Value("plain"), Value(),                               //
               Value(2), Value("comma, \"quote\"\nline"), Value(Timestamp{})},  //
              2);
}

TEST(ArchiveFile, EncodesCsvAsRfc4180AndJsonLinesWithTypes) {
  TempDir dir;
  const FileSink csv(dir.path() + "/a.csv");
  EXPECT_EQ(csv.encode(sample_rows(), true),
            "id,note,at\r\n1,plain,\r\n2,\"comma, \"\"quote\"\"\nline\",1970-01-01 "
            "00:00:00.000000+00\r\n");
  const FileSink jsonl(dir.path() + "/a.jsonl");
  EXPECT_EQ(jsonl.encode(sample_rows(), true),
            "{\"id\":1,\"note\":\"plain\",\"at\":null}\n"
            "{\"id\":2,\"note\":\"comma, \\\"quote\\\"\\nline\",\"at\":\"1970-01-01 "
            "00:00:00.000000+00\"}\n");
  EXPECT_THROW(FileSink(dir.path() + "/a.xlsx"), ConfigError);
}

TEST(ArchiveFile, AppendsVerifiedGzipMembersAndTruncatesToABatch) {
  TempDir dir;
  const std::string path = dir.path() + "/a.csv.gz";
  const FileSink sink(path);
  const std::uint64_t first = sink.append(sample_rows(), 0);
  const std::uint64_t second = sink.append(sample_rows(), first);
  EXPECT_GT(second, first);
  // Garbage past the committed end is replaced by the next append.
  std::ofstream(path, std::ios::app) << "garbage";
  const std::uint64_t third = sink.append(sample_rows(), second);
  EXPECT_EQ(sink.size(), third);
  sink.truncate(second);
  gzFile f = gzopen(path.c_str(), "rb");
  std::string text(4096, '\0');
  const int n = gzread(f, text.data(), static_cast<unsigned>(text.size()));
  gzclose(f);
  text.resize(static_cast<std::size_t>(n));
  const std::string one = sink.encode(sample_rows(), false);
  EXPECT_EQ(text, sink.encode(sample_rows(), true) + one);  // header once, then two batches
}

}  // namespace
}  // namespace nexdb::test
