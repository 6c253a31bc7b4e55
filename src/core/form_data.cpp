// SPDX-License-Identifier: BSD-2-Clause
#include "form_data.hpp"

namespace mailhook {
namespace {

constexpr std::string_view kCrlf = "\r\n";

// `name=value` pairs after the first `;` of a header value; values may be
// quoted-strings (backslash escapes).
std::optional<std::string> header_parameter(std::string_view value,
                                            std::string_view wanted) {
    std::size_t i = value.find(';');
    while (i != std::string_view::npos && i < value.size()) {
        ++i;
        while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
        const std::size_t eq = value.find('=', i);
        if (eq == std::string_view::npos) return std::nullopt;
        const std::string_view name = trim_ascii(value.substr(i, eq - i));
        std::string parsed;
        std::size_t j = eq + 1;
        if (j < value.size() && value[j] == '"') {
            for (++j; j < value.size() && value[j] != '"'; ++j) {
                if (value[j] == '\\' && j + 1 < value.size()) ++j;
                parsed.push_back(value[j]);
            }
            if (j >= value.size()) return std::nullopt;  // unterminated
            ++j;
        } else {
            const std::size_t end = value.find(';', j);
            parsed = std::string(trim_ascii(value.substr(j, end - j)));
            j = end == std::string_view::npos ? value.size() : end;
        }
        if (iequals_ascii(name, wanted)) return parsed;
        i = value.find(';', j);
    }
    return std::nullopt;
}

struct Part {
    std::optional<std::string> name;
    bool is_file = false;
    std::string_view content;
};

std::optional<Part> parse_part(std::string_view part) {
    Part out;
    const std::size_t head_end = part.find("\r\n\r\n");
    if (head_end == std::string_view::npos) return std::nullopt;
    std::string_view headers = part.substr(0, head_end);
    out.content = part.substr(head_end + 4);
    while (!headers.empty()) {
        const std::size_t eol = headers.find(kCrlf);
        const std::string_view line = headers.substr(0, eol);
        headers = eol == std::string_view::npos ? std::string_view{}
                                                : headers.substr(eol + kCrlf.size());
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        if (!iequals_ascii(trim_ascii(line.substr(0, colon)), "Content-Disposition")) {
            continue;
        }
        const std::string_view value = trim_ascii(line.substr(colon + 1));
        if (!iequals_ascii(trim_ascii(value.substr(0, value.find(';'))), "form-data")) {
            return std::nullopt;
        }
        out.name = header_parameter(value, "name");
        out.is_file = header_parameter(value, "filename").has_value();
    }
    if (!out.name) return std::nullopt;
    return out;
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
    const std::string_view type = trim_ascii(content_type.substr(0, content_type.find(';')));
    if (!iequals_ascii(type, "multipart/form-data")) return std::nullopt;
    auto boundary = header_parameter(content_type, "boundary");
    if (!boundary || boundary->empty() || boundary->size() > 70) return std::nullopt;
    return boundary;
}

std::optional<FormFields> parse_multipart_form(std::string_view body,
                                               std::string_view boundary) {
    const std::string delimiter = "--" + std::string(boundary);
    // The first delimiter may follow a preamble; later ones follow a CRLF.
    std::size_t start = body.substr(0, delimiter.size()) == delimiter
                            ? 0
                            : body.find("\r\n" + delimiter);
    if (start == std::string_view::npos) return std::nullopt;
    if (start > 0) start += kCrlf.size();
    FormFields fields;
    std::size_t position = start + delimiter.size();
    while (true) {
        if (body.substr(position, 2) == "--") return fields;  // close delimiter
        if (body.substr(position, 2) != kCrlf) return std::nullopt;
        position += kCrlf.size();
        const std::size_t next = body.find("\r\n" + delimiter, position);
        if (next == std::string_view::npos) return std::nullopt;
        const auto part = parse_part(body.substr(position, next - position));
        if (!part) return std::nullopt;
        if (!part->is_file) {
            if (part->name->find('\0') != std::string::npos ||
                part->content.find('\0') != std::string_view::npos) {
                return std::nullopt;
            }
            fields.emplace_back(*part->name, std::string(part->content));
        }
        position = next + kCrlf.size() + delimiter.size();
    }
}

}  // namespace mailhook
