// The tagged hasher every identity in retrace is computed with.
//
// The bytes hashed are a readable text: a scheme line first, then one record
// per field, "<tag> <byte length>\n<value>\n". The tag and the length fix the
// field boundaries, so no two different field lists hash the same text; the
// scheme line makes a deliberate scheme change change every digest. Because
// the hashed bytes are text, text() is exactly what was hashed: two of them
// compared with diff(1) show why two digests differ. See docs/identity.md.
#pragma once

#include <string>
#include <string_view>

#include "retrace/core/digest.hpp"

namespace retrace::core {

class TaggedHasher {
  public:
    // scheme names what is being hashed and its version, e.g. "retrace.conditions/1".
    explicit TaggedHasher(std::string_view scheme);

    TaggedHasher& field(std::string_view tag, std::string_view value);
    TaggedHasher& field(std::string_view tag, const Digest& value);
    TaggedHasher& field(std::string_view tag, long long value);

    Digest digest() const;
    const std::string& text() const { return m_text; }

  private:
    std::string m_text;
};

}  // namespace retrace::core
