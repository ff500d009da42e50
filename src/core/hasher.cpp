#include "retrace/core/hasher.hpp"

namespace retrace::core {

TaggedHasher::TaggedHasher(std::string_view scheme) {
    m_text.reserve(256);
    field("scheme", scheme);
}

TaggedHasher& TaggedHasher::field(std::string_view tag, std::string_view value) {
    m_text.append(tag);
    m_text.push_back(' ');
    m_text.append(std::to_string(value.size()));
    m_text.push_back('\n');
    m_text.append(value);
    m_text.push_back('\n');
    return *this;
}

TaggedHasher& TaggedHasher::field(std::string_view tag, const Digest& value) {
    return field(tag, value.to_string());
}

TaggedHasher& TaggedHasher::field(std::string_view tag, long long value) {
    return field(tag, std::to_string(value));
}

Digest TaggedHasher::digest() const {
    return Digest::of(m_text);
}

}  // namespace retrace::core
