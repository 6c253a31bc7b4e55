// SPDX-License-Identifier: BSD-2-Clause
#include "sample_events.hpp"

#include "core/json.hpp"
#include "core/timestamp.hpp"

namespace mailhook::cli {
namespace {

struct Sample {
    std::string_view vendor;
    // {R} recipient, {ID} unique id, {N} unique number, {S} epoch seconds,
    // {MS} epoch milliseconds, {T} RFC 3339 time, {U} "YYYY-MM-DD hh:mm:ss" UTC.
    std::string_view body;
};

// The shapes of the vendors' own documentation (docs/vendors/*.md, "Try it").
constexpr Sample kSamples[] = {
    {"brevo", R"({"event":"delivered","email":"{R}","id":{N},"ts_epoch":{MS},)"
              R"("message-id":"<{ID}@mailhook.invalid>"})"},
    {"generic", R"({"event":"delivered","email":"{R}","id":"{ID}","timestamp":{S}})"},
    {"inboxroad", R"({"kind":"delivered","recipient":"{R}","message_id":"<{ID}@mailhook.invalid>",)"
                  R"("timestamp":"{T}"})"},
    {"mailersend", R"({"type":"activity.delivered","created_at":"{T}","data":{"object":"activity",)"
                   R"("id":"{ID}","type":"delivered","created_at":"{T}","email":{"object":"email",)"
                   R"("id":"{ID}","status":"delivered","tags":null,"message":{"object":"message",)"
                   R"("id":"{ID}"},"recipient":{"object":"recipient","email":"{R}"}},"morph":null}})"},
    {"mailtrap", R"({"events":[{"event":"delivery","timestamp":{S},"sending_stream":"transactional",)"
                 R"("message_id":"{ID}","email":"{R}","event_id":"{ID}","sending_domain_name":"example.com"}]})"},
    {"mailgun", R"({"event-data":{"event":"delivered","id":"{ID}","timestamp":{S},)"
                R"("recipient":"{R}","message":{"headers":{"message-id":"{ID}@mailhook.invalid"}}}})"},
    {"mailjet", R"({"event":"sent","time":{S},"MessageID":{N},"email":"{R}","mj_campaign_id":0,)"
                R"("smtp_reply":"250 OK"})"},
    {"mandrill", R"([{"event":"delivered","ts":{S},"_id":"{ID}","msg":{"email":"{R}","_id":"{ID}",)"
                 R"("tags":[],"metadata":{}}}])"},
    {"oci", R"({"logContent":{"id":"{ID}","time":"{T}","data":{"action":"relay","recipient":"{R}",)"
            R"("messageId":"{ID}","smtpStatus":"250 2.0.0 OK"}}})"},
    {"postal", R"({"event":"MessageSent","timestamp":{S},"uuid":"{ID}","payload":{"message":)"
               R"({"id":1,"to":"{R}","from":"mailhook@mailhook.invalid","message_id":)"
               R"("{ID}@mailhook.invalid"},"status":"Sent","details":"Message sent",)"
               R"("output":"250 2.0.0 OK","timestamp":{S}}})"},
    {"postmark", R"({"RecordType":"Delivery","MessageID":"{ID}","Recipient":"{R}",)"
                 R"("DeliveredAt":"{T}","Details":"250 2.0.0 OK","Tag":"mailhook-sign","Metadata":{}})"},
    {"resend", R"({"type":"email.delivered","created_at":"{T}","data":{"email_id":"{ID}",)"
               R"("to":["{R}"],"from":"mailhook@mailhook.invalid","subject":"mailhook sign"}})"},
    {"sendgrid", R"([{"email":"{R}","timestamp":{S},"event":"delivered","sg_event_id":"{ID}",)"
                 R"("sg_message_id":"{ID}","response":"250 OK"}])"},
    {"ses", R"({"eventType":"Delivery","mail":{"timestamp":"{T}","messageId":"{ID}",)"
            R"("destination":["{R}"]},"delivery":{"timestamp":"{T}","recipients":["{R}"],)"
            R"("smtpResponse":"250 2.6.0 Message received"}})"},
    {"smartlead", R"({"event_type":"EMAIL_SENT","to_email":"{R}","campaign_id":1,)"
                  R"("event_timestamp":"{T}","sent_message":{"message_id":"<{ID}@mailhook.invalid>"}})"},
    {"smtp2go", R"({"event":"delivered","time":"{T}","rcpt":"{R}","email_id":"{ID}","id":"{ID}"})"},
    {"smtpcom", R"([{"event_label":"delivered","id":"{ID}","rcpt_to":"{R}","tracking_id":"{ID}",)"
                R"("time_finished":"{T}","resp_code":"250","resp_msg":"2.0.0 OK"}])"},
    {"unisender_go", R"({"events_by_user":[{"user_id":1,"events":[{"event_name":)"
                     R"("transactional_email_status","event_data":{"job_id":"{ID}","email":"{R}",)"
                     R"("status":"delivered","event_time":"{U}"}}]}]})"},
    {"sparkpost", R"([{"msys":{"message_event":{"type":"delivery","event_id":"{ID}",)"
                  R"("message_id":"{ID}","rcpt_to":"{R}","timestamp":"{S}",)"
                  R"("raw_reason":"250 2.0.0 OK"}}}])"},
};

// The text of a JSON string literal without its quotes.
std::string json_text(std::string_view text) {
    std::string quoted;
    append_json_string(quoted, text);
    return quoted.substr(1, quoted.size() - 2);
}

}  // namespace

std::optional<std::string> sample_body(std::string_view vendor, const SampleFields& fields) {
    for (const Sample& sample : kSamples) {
        if (sample.vendor != vendor) continue;
        const std::pair<std::string_view, std::string> values[] = {
            {"{R}", json_text(fields.recipient)},
            {"{ID}", json_text(fields.id)},
            {"{N}", std::to_string(fields.now_ms)},
            {"{MS}", std::to_string(fields.now_ms)},
            {"{S}", std::to_string(fields.now_ms / 1000)},
            {"{T}", format_rfc3339_seconds(fields.now_ms)},
            {"{U}", format_rfc3339_seconds(fields.now_ms).substr(0, 19).replace(10, 1, " ")},
        };
        std::string body(sample.body);
        for (const auto& [name, value] : values) {
            for (std::size_t at = body.find(name); at != std::string::npos;
                 at = body.find(name, at + value.size())) {
                body.replace(at, name.size(), value);
            }
        }
        return body;
    }
    return std::nullopt;
}

}  // namespace mailhook::cli
