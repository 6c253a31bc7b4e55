// SPDX-License-Identifier: BSD-2-Clause
#include "spool_record.hpp"

#include <array>

namespace mailhook {
namespace {

constexpr std::string_view kMagicV1 = "MHS1";
constexpr std::string_view kMagic = "MHS2";
constexpr std::size_t kHeaderV1 = 16;
constexpr std::size_t kHeader = 20;
constexpr std::size_t kShaSize = 40;
// Larger records than this are not something we wrote.
constexpr std::uint32_t kMaxRecordBytes = 512u * 1024 * 1024;

constexpr std::array<std::uint32_t, 256> make_crc_table() {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) {
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        }
        table[i] = c;
    }
    return table;
}

constexpr std::array<std::uint32_t, 256> kCrcTable = make_crc_table();

std::uint32_t crc32_update(std::uint32_t c, std::string_view bytes) {
    for (const char byte : bytes) {
        c = kCrcTable[(c ^ static_cast<unsigned char>(byte)) & 0xff] ^ (c >> 8);
    }
    return c;
}

void put_u32(std::string& out, std::uint32_t value) {
    for (int shift = 0; shift < 32; shift += 8) {
        out.push_back(static_cast<char>((value >> shift) & 0xff));
    }
}

std::uint32_t get_u32(std::string_view bytes, std::size_t at) {
    std::uint32_t value = 0;
    for (int i = 3; i >= 0; --i) {
        value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
    }
    return value;
}

bool is_sha1_hex(std::string_view text) {
    if (text.size() != kShaSize) return false;
    for (const char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

// The header fields after the magic, then the payload (v2).
std::uint32_t record_crc(std::string_view fields, std::string_view payload) {
    return crc32_update(crc32_update(0xffffffffu, fields), payload) ^ 0xffffffffu;
}

std::string encode(SpoolRecordKind kind, std::uint8_t attempts, std::uint32_t count,
                   std::string_view sha1, std::string_view body) {
    std::string payload;
    payload.reserve(kShaSize + body.size());
    payload.append(sha1.substr(0, kShaSize));
    payload.resize(kShaSize, '0');
    payload.append(body);
    std::string out;
    out.reserve(kHeader + payload.size());
    out.append(kMagic);
    out.push_back(static_cast<char>(kind));
    out.push_back(static_cast<char>(attempts));
    out.append(2, '\0');
    put_u32(out, count);
    put_u32(out, static_cast<std::uint32_t>(payload.size()));
    put_u32(out, record_crc(std::string_view(out).substr(4, 12), payload));
    out.append(payload);
    return out;
}

bool starts_like_magic(std::string_view bytes) {
    for (const std::string_view magic : {kMagic, kMagicV1}) {
        const std::size_t n = std::min(bytes.size(), magic.size());
        if (bytes.substr(0, n) == magic.substr(0, n)) return true;
    }
    return false;
}

// The payload's SHA-1 and body, checked for what each kind must hold.
bool fill_payload(SpoolRecordView& view, std::string_view payload) {
    view.script_sha1 = payload.substr(0, kShaSize);
    view.args = payload.substr(kShaSize);
    if (!is_sha1_hex(view.script_sha1)) return false;
    switch (view.kind) {
        case SpoolRecordKind::call:
            return view.arg_count > 0 && is_resp_bulk_sequence(view.args, view.arg_count);
        case SpoolRecordKind::script:
            return view.arg_count == 0 && !view.args.empty();
    }
    return false;
}

SpoolRecordView decode_v1(std::string_view bytes) {
    SpoolRecordView view;
    if (bytes.size() < kHeaderV1) {
        return view;  // incomplete
    }
    const std::uint32_t count = get_u32(bytes, 4);
    const std::uint32_t length = get_u32(bytes, 8);
    if (length > kMaxRecordBytes || length < kShaSize || count == 0) {
        view.status = SpoolRecordView::Status::corrupt;
        return view;
    }
    if (bytes.size() - kHeaderV1 < length) {
        return view;  // incomplete
    }
    const std::string_view payload = bytes.substr(kHeaderV1, length);
    view.arg_count = count;
    if (crc32(payload) != get_u32(bytes, 12) || !fill_payload(view, payload)) {
        view.status = SpoolRecordView::Status::corrupt;
        return view;
    }
    view.status = SpoolRecordView::Status::ok;
    view.size = kHeaderV1 + length;
    return view;
}

}  // namespace

std::uint32_t crc32(std::string_view bytes) {
    return crc32_update(0xffffffffu, bytes) ^ 0xffffffffu;
}

std::string encode_spool_record(std::string_view script_sha1, const RespArgs& args,
                                std::uint8_t attempts) {
    return encode(SpoolRecordKind::call, attempts, static_cast<std::uint32_t>(args.count()),
                  script_sha1, args.encoded());
}

std::string encode_spool_script(std::string_view script_sha1, std::string_view source) {
    return encode(SpoolRecordKind::script, 0, 0, script_sha1, source);
}

bool is_resp_bulk_sequence(std::string_view args, std::uint32_t count) {
    std::size_t at = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
        if (at >= args.size() || args[at] != '$') return false;
        ++at;
        std::size_t length = 0;
        const std::size_t digits_start = at;
        while (at < args.size() && args[at] >= '0' && args[at] <= '9') {
            if (at - digits_start >= 10) return false;
            length = length * 10 + static_cast<std::size_t>(args[at] - '0');
            ++at;
        }
        if (at == digits_start || args.substr(at, 2) != "\r\n") return false;
        at += 2;
        if (args.size() - at < length + 2 || args.substr(at + length, 2) != "\r\n") {
            return false;
        }
        at += length + 2;
    }
    return at == args.size();
}

SpoolRecordView decode_spool_record(std::string_view bytes) {
    SpoolRecordView view;
    if (bytes.size() < kMagic.size()) {
        view.status = starts_like_magic(bytes) ? SpoolRecordView::Status::incomplete
                                               : SpoolRecordView::Status::corrupt;
        return view;
    }
    if (bytes.substr(0, kMagic.size()) == kMagicV1) {
        return decode_v1(bytes);
    }
    if (bytes.substr(0, kMagic.size()) != kMagic) {
        view.status = SpoolRecordView::Status::corrupt;
        return view;
    }
    if (bytes.size() < kHeader) {
        return view;  // incomplete
    }
    const auto kind = static_cast<unsigned char>(bytes[4]);
    const std::uint32_t count = get_u32(bytes, 8);
    const std::uint32_t length = get_u32(bytes, 12);
    const bool known_kind = kind == static_cast<unsigned char>(SpoolRecordKind::call) ||
                            kind == static_cast<unsigned char>(SpoolRecordKind::script);
    if (!known_kind || bytes[6] != '\0' || bytes[7] != '\0' || length > kMaxRecordBytes ||
        length < kShaSize) {
        view.status = SpoolRecordView::Status::corrupt;
        return view;
    }
    if (bytes.size() - kHeader < length) {
        return view;  // incomplete
    }
    const std::string_view payload = bytes.substr(kHeader, length);
    view.kind = static_cast<SpoolRecordKind>(kind);
    view.attempts = static_cast<std::uint8_t>(bytes[5]);
    view.arg_count = count;
    if (record_crc(bytes.substr(4, 12), payload) != get_u32(bytes, 16) ||
        !fill_payload(view, payload)) {
        view.status = SpoolRecordView::Status::corrupt;
        return view;
    }
    view.status = SpoolRecordView::Status::ok;
    view.size = kHeader + length;
    return view;
}

std::size_t next_spool_record(std::string_view bytes) {
    for (std::size_t at = bytes.find("MHS", 1); at != std::string_view::npos;
         at = bytes.find("MHS", at + 1)) {
        if (decode_spool_record(bytes.substr(at)).status == SpoolRecordView::Status::ok) {
            return at;
        }
    }
    return std::string_view::npos;
}

}  // namespace mailhook
