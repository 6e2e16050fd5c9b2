// Just enough XML for S3's responses: the text of named elements. S3's
// documents are flat and generated, so this looks for "<Tag>...</Tag>" (not
// nested in itself) and decodes the five named entities and numeric ones.
// Stateless; safe from any thread.
#ifndef TXFLOW_S3_XML_H_
#define TXFLOW_S3_XML_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace txflow::s3 {

// The raw inner text of every <tag>...</tag> in `xml`, in document order.
std::vector<std::string_view> XmlElements(std::string_view xml,
                                          std::string_view tag);

// The decoded text of the first <tag>, or nullopt.
std::optional<std::string> XmlText(std::string_view xml, std::string_view tag);

// "&lt;" -> "<" etc.; an unknown entity is kept as it is.
std::string XmlDecode(std::string_view text);

// "<" -> "&lt;" etc., for values placed in a request body.
std::string XmlEscape(std::string_view text);

}  // namespace txflow::s3

#endif  // TXFLOW_S3_XML_H_
