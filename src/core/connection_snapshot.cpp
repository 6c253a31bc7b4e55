// SPDX-License-Identifier: BSD-2-Clause
#include "connection_snapshot.hpp"

#include "spool_record.hpp"

namespace mailhook {
namespace {

constexpr std::string_view kMagic = "MHC1";
// Far more than any connection needs (an RSA public key in PEM is ~800 bytes).
constexpr std::uint32_t kMaxRecord = 64 * 1024;
constexpr std::uint32_t kMaxFields = 64;

void put_u32(std::string& out, std::uint32_t value) {
    for (int shift = 0; shift < 32; shift += 8) {
        out.push_back(static_cast<char>((value >> shift) & 0xff));
    }
}

// Reads from the front of `bytes`, consuming what it read.
class Reader {
  public:
    explicit Reader(std::string_view bytes) : rest_(bytes) {}
    bool u32(std::uint32_t& value) {
        if (rest_.size() < 4) return false;
        value = 0;
        for (int i = 3; i >= 0; --i) {
            value = (value << 8) | static_cast<unsigned char>(rest_[i]);
        }
        rest_.remove_prefix(4);
        return true;
    }
    bool text(std::string_view& out, std::uint32_t max) {
        std::uint32_t length = 0;
        if (!u32(length) || length > max || rest_.size() < length) return false;
        out = rest_.substr(0, length);
        rest_.remove_prefix(length);
        return true;
    }
    bool done() const { return rest_.empty(); }

  private:
    std::string_view rest_;
};

void put_text(std::string& out, std::string_view text) {
    put_u32(out, static_cast<std::uint32_t>(text.size()));
    out.append(text);
}

}  // namespace

std::string encode_known_connection(std::string_view id, const FieldList& fields) {
    std::string out;
    put_text(out, id);
    put_u32(out, static_cast<std::uint32_t>(fields.size()));
    for (const auto& [name, value] : fields) {
        put_text(out, name);
        put_text(out, value);
    }
    return out;
}

std::optional<KnownConnection> decode_known_connection(std::string_view bytes) {
    Reader in(bytes);
    KnownConnection known;
    std::string_view id;
    std::uint32_t count = 0;
    if (!in.text(id, kMaxRecord) || !is_valid_connection_id(id) || !in.u32(count) ||
        count > kMaxFields) {
        return std::nullopt;
    }
    known.id.assign(id);
    for (std::uint32_t i = 0; i < count; ++i) {
        std::string_view name;
        std::string_view value;
        if (!in.text(name, kMaxRecord) || !in.text(value, kMaxRecord)) {
            return std::nullopt;
        }
        known.fields.emplace_back(std::string(name), std::string(value));
    }
    if (!in.done()) {
        return std::nullopt;
    }
    return known;
}

std::string encode_connection_snapshot(const std::vector<std::string>& records) {
    std::string out(kMagic);
    put_u32(out, static_cast<std::uint32_t>(records.size()));
    for (const std::string& record : records) {
        put_text(out, record);
    }
    put_u32(out, crc32(out));
    return out;
}

std::optional<std::vector<std::string>> decode_connection_snapshot(std::string_view bytes) {
    if (bytes.size() < kMagic.size() + 8 || bytes.substr(0, kMagic.size()) != kMagic) {
        return std::nullopt;
    }
    const std::string_view body = bytes.substr(0, bytes.size() - 4);
    Reader trailer(bytes.substr(bytes.size() - 4));
    std::uint32_t crc = 0;
    if (!trailer.u32(crc) || crc != crc32(body)) {
        return std::nullopt;
    }
    Reader in(body.substr(kMagic.size()));
    std::uint32_t count = 0;
    if (!in.u32(count)) {
        return std::nullopt;
    }
    std::vector<std::string> records;
    for (std::uint32_t i = 0; i < count; ++i) {
        std::string_view record;
        if (!in.text(record, kMaxRecord)) {
            return std::nullopt;
        }
        records.emplace_back(record);
    }
    if (!in.done()) {
        return std::nullopt;
    }
    return records;
}

}  // namespace mailhook
