// SPDX-License-Identifier: BSD-2-Clause
#include "spool_record.hpp"

#include <array>

namespace mailhook {
namespace {

constexpr std::string_view kMagic = "MHS1";
constexpr std::size_t kHeaderSize = 16;
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

}  // namespace

std::uint32_t crc32(std::string_view bytes) {
    std::uint32_t c = 0xffffffffu;
    for (const char byte : bytes) {
        c = kCrcTable[(c ^ static_cast<unsigned char>(byte)) & 0xff] ^ (c >> 8);
    }
    return c ^ 0xffffffffu;
}

std::string encode_spool_record(std::string_view script_sha1, const RespArgs& args) {
    std::string payload;
    payload.reserve(kShaSize + args.encoded().size());
    payload.append(script_sha1.substr(0, kShaSize));
    payload.resize(kShaSize, '0');
    payload.append(args.encoded());
    std::string out;
    out.reserve(kHeaderSize + payload.size());
    out.append(kMagic);
    put_u32(out, static_cast<std::uint32_t>(args.count()));
    put_u32(out, static_cast<std::uint32_t>(payload.size()));
    put_u32(out, crc32(payload));
    out.append(payload);
    return out;
}

SpoolRecordView decode_spool_record(std::string_view bytes) {
    SpoolRecordView view;
    if (bytes.size() < kHeaderSize) {
        view.status = bytes.substr(0, kMagic.size()) ==
                              kMagic.substr(0, std::min(bytes.size(), kMagic.size()))
                          ? SpoolRecordView::Status::incomplete
                          : SpoolRecordView::Status::corrupt;
        return view;
    }
    if (bytes.substr(0, kMagic.size()) != kMagic) {
        view.status = SpoolRecordView::Status::corrupt;
        return view;
    }
    const std::uint32_t count = get_u32(bytes, 4);
    const std::uint32_t length = get_u32(bytes, 8);
    const std::uint32_t checksum = get_u32(bytes, 12);
    if (length > kMaxRecordBytes || length < kShaSize || count == 0) {
        view.status = SpoolRecordView::Status::corrupt;
        return view;
    }
    if (bytes.size() - kHeaderSize < length) {
        view.status = SpoolRecordView::Status::incomplete;
        return view;
    }
    const std::string_view payload = bytes.substr(kHeaderSize, length);
    if (crc32(payload) != checksum) {
        view.status = SpoolRecordView::Status::corrupt;
        return view;
    }
    view.status = SpoolRecordView::Status::ok;
    view.size = kHeaderSize + length;
    view.arg_count = count;
    view.script_sha1 = payload.substr(0, kShaSize);
    view.args = payload.substr(kShaSize);
    return view;
}

}  // namespace mailhook
