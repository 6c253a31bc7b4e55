// SPDX-License-Identifier: BSD-2-Clause
#include "timestamp.hpp"


namespace mailhook {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
// days_from_civil algorithm); avoids timegm and the process time zone.
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
    year -= month <= 2;
    const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
    const auto year_of_era = static_cast<unsigned>(year - era * 400);
    const unsigned day_of_year =
        (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    const unsigned day_of_era =
        year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

struct CivilDate {
    std::int64_t year;
    unsigned month;
    unsigned day;
};

CivilDate civil_from_days(std::int64_t days) {
    days += 719468;
    const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const auto day_of_era = static_cast<unsigned>(days - era * 146097);
    const unsigned year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 -
         day_of_era / 146096) / 365;
    const unsigned day_of_year =
        day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    const unsigned mp = (5 * day_of_year + 2) / 153;
    const unsigned day = day_of_year - (153 * mp + 2) / 5 + 1;
    const unsigned month = mp < 10 ? mp + 3 : mp - 9;
    return {static_cast<std::int64_t>(year_of_era) + era * 400 + (month <= 2),
            month, day};
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

void put_digits(char* out, std::int64_t value, int width) {
    for (int i = width - 1; i >= 0; --i) {
        out[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
}

// Hand-rolled: this runs several times per event, and snprintf costs more
// than everything else in it.
std::string format(EpochMillis at, bool millis) {
    const std::int64_t seconds = floor_div(at, 1000);
    const std::int64_t days = floor_div(seconds, 86400);
    const std::int64_t in_day = seconds - days * 86400;
    // Not at - seconds * 1000: that overflows for the most negative inputs.
    const int fraction = static_cast<int>(((at % 1000) + 1000) % 1000);
    const CivilDate date = civil_from_days(days);
    if (date.year < 0 || date.year > 9999) {
        return format(date.year < 0 ? -62167219200000 : 253402300799999, millis);
    }
    char buffer[24] = "0000-00-00T00:00:00.000";
    put_digits(buffer, date.year, 4);
    put_digits(buffer + 5, date.month, 2);
    put_digits(buffer + 8, date.day, 2);
    put_digits(buffer + 11, in_day / 3600, 2);
    put_digits(buffer + 14, in_day / 60 % 60, 2);
    put_digits(buffer + 17, in_day % 60, 2);
    if (!millis) {
        return std::string(buffer, 19) + 'Z';
    }
    put_digits(buffer + 20, fraction, 3);
    return std::string(buffer, 23) + 'Z';
}

// Reads exactly `width` digits at text[pos].
std::optional<int> digits(std::string_view text, std::size_t pos,
                          std::size_t width) {
    if (pos + width > text.size()) return std::nullopt;
    int value = 0;
    for (std::size_t i = pos; i < pos + width; ++i) {
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

unsigned days_in_month(int year, int month) {
    static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : kDays[month - 1];
}

// Parses "+HH:MM", "+HHMM", "+HH" or "Z" at text[pos..]; offset in minutes.
std::optional<int> parse_offset(std::string_view text, std::size_t pos) {
    const std::string_view rest = text.substr(pos);
    if (rest == "Z" || rest == "z") return 0;
    if (rest.empty() || (rest[0] != '+' && rest[0] != '-')) return std::nullopt;
    const int sign = rest[0] == '-' ? -1 : 1;
    const auto hours = digits(rest, 1, 2);
    if (!hours) return std::nullopt;
    int minutes = 0;
    if (rest.size() == 6 && rest[3] == ':') {
        const auto m = digits(rest, 4, 2);
        if (!m) return std::nullopt;
        minutes = *m;
    } else if (rest.size() == 5) {
        const auto m = digits(rest, 3, 2);
        if (!m) return std::nullopt;
        minutes = *m;
    } else if (rest.size() != 3) {
        return std::nullopt;
    }
    if (*hours > 23 || minutes > 59) return std::nullopt;
    return sign * (*hours * 60 + minutes);
}

}  // namespace

std::string format_rfc3339_seconds(EpochMillis at) { return format(at, false); }

std::string format_rfc3339_millis(EpochMillis at) { return format(at, true); }

std::optional<EpochMillis> parse_iso8601(std::string_view text) {
    // YYYY-MM-DDTHH:MM:SS
    const auto year = digits(text, 0, 4);
    const auto month = digits(text, 5, 2);
    const auto day = digits(text, 8, 2);
    const auto hour = digits(text, 11, 2);
    const auto minute = digits(text, 14, 2);
    const auto second = digits(text, 17, 2);
    if (!year || !month || !day || !hour || !minute || !second ||
        text[4] != '-' || text[7] != '-' ||
        (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
        text[13] != ':' || text[16] != ':') {
        return std::nullopt;
    }
    if (*month < 1 || *month > 12 || *day < 1 ||
        static_cast<unsigned>(*day) > days_in_month(*year, *month) || *hour > 23 ||
        *minute > 59 || *second > 60) {
        return std::nullopt;
    }
    std::size_t pos = 19;
    int millis = 0;
    if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
        ++pos;
        int scale = 100;
        const std::size_t start = pos;
        while (pos < text.size() && is_digit(text[pos])) {
            millis += (text[pos] - '0') * scale;
            scale /= 10;
            ++pos;
        }
        if (pos == start) return std::nullopt;
    }
    int offset_minutes = 0;
    if (pos < text.size()) {
        const auto offset = parse_offset(text, pos);
        if (!offset) return std::nullopt;
        offset_minutes = *offset;
    }
    const std::int64_t days = days_from_civil(
        *year, static_cast<unsigned>(*month), static_cast<unsigned>(*day));
    const std::int64_t seconds = days * 86400 + *hour * 3600 + *minute * 60 +
                                 *second - offset_minutes * 60;
    return seconds * 1000 + millis;
}

std::optional<EpochMillis> parse_epoch_seconds(std::string_view text) {
    if (text.empty() || text.size() > 24) return std::nullopt;
    std::size_t pos = 0;
    std::int64_t seconds = 0;
    while (pos < text.size() && is_digit(text[pos])) {
        seconds = seconds * 10 + (text[pos] - '0');
        ++pos;
        if (seconds > 100000000000LL) return std::nullopt;  // year 5138
    }
    if (pos == 0) return std::nullopt;
    int millis = 0;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        const std::size_t start = pos;
        int scale = 100;
        while (pos < text.size() && is_digit(text[pos])) {
            millis += (text[pos] - '0') * scale;
            scale /= 10;
            ++pos;
        }
        if (pos == start) return std::nullopt;
    }
    if (pos != text.size()) return std::nullopt;
    return seconds * 1000 + millis;
}

std::optional<EpochMillis> parse_vendor_time(std::string_view text) {
    if (auto epoch = parse_epoch_seconds(text)) return epoch;
    return parse_iso8601(text);
}

}  // namespace mailhook
