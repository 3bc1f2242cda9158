#include "core/selector.h"

#include <cctype>
#include <string>

namespace baofeed::css {
namespace {

bool is_name_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) != 0 || c == '-' || c == '_' || u >= 0x80;
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

std::string lower(std::string s) {
    for (char& c : s) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
}

// Recursive-descent over a flat string; the only nesting is :not(), which accepts compounds
// only (no nested :not), so the depth is bounded at two.
class Parser {
  public:
    explicit Parser(std::string_view text) : text_(text) {}

    SelectorList parse_list() {
        SelectorList list;
        skip_space();
        if (at_end()) {
            fail("empty selector");
        }
        while (true) {
            list.push_back(parse_complex());
            skip_space();
            if (at_end()) {
                break;
            }
            if (peek() != ',') {
                fail(std::string("unexpected '") + peek() + "'");
            }
            ++pos_;
            skip_space();
            if (at_end()) {
                fail("selector expected after ','");
            }
        }
        return list;
    }

  private:
    [[noreturn]] void fail(const std::string& reason) const {
        throw SelectorError("selector \"" + std::string(text_) + "\": at offset " +
                            std::to_string(pos_) + ": " + reason);
    }

    bool at_end() const { return pos_ >= text_.size(); }
    char peek() const { return at_end() ? '\0' : text_[pos_]; }

    void skip_space() {
        while (!at_end() && is_space(text_[pos_])) {
            ++pos_;
        }
    }

    std::string parse_name(const char* what) {
        const std::size_t start = pos_;
        while (!at_end() && is_name_char(text_[pos_])) {
            ++pos_;
        }
        if (pos_ == start) {
            fail(std::string(what) + " expected");
        }
        return std::string(text_.substr(start, pos_ - start));
    }

    Complex parse_complex() {
        Complex complex;
        complex.compounds.push_back(parse_compound(true));
        while (true) {
            const std::size_t before = pos_;
            skip_space();
            const bool had_space = pos_ > before;
            if (at_end() || peek() == ',' || peek() == ')') {
                pos_ = before;
                skip_space();
                return complex;
            }
            if (peek() == '>') {
                ++pos_;
                skip_space();
                if (at_end()) {
                    fail("selector expected after '>'");
                }
                complex.combinators.push_back(Combinator::child);
            } else if (had_space) {
                complex.combinators.push_back(Combinator::descendant);
            } else {
                fail(std::string("unexpected '") + peek() + "'");
            }
            complex.compounds.push_back(parse_compound(true));
        }
    }

    Compound parse_compound(bool allow_not) {
        Compound compound;
        bool any = false;
        if (peek() == '*') {
            ++pos_;
            compound.tag = "*";
            any = true;
        } else if (!at_end() && is_name_char(peek())) {
            compound.tag = lower(parse_name("tag name"));
            any = true;
        }
        while (!at_end()) {
            const char c = peek();
            if (c == '.') {
                ++pos_;
                compound.classes.push_back(parse_name("class name"));
            } else if (c == '#') {
                ++pos_;
                compound.ids.push_back(parse_name("id"));
            } else if (c == '[') {
                ++pos_;
                compound.attributes.push_back(parse_attribute());
            } else if (c == ':') {
                ++pos_;
                compound.pseudos.push_back(parse_pseudo(allow_not));
            } else {
                break;
            }
            any = true;
        }
        if (!any) {
            if (at_end()) {
                fail("selector expected");
            }
            fail(std::string("unexpected '") + peek() + "'");
        }
        return compound;
    }

    AttributeTest parse_attribute() {
        AttributeTest test;
        skip_space();
        test.name = lower(parse_name("attribute name"));
        skip_space();
        if (peek() == ']') {
            ++pos_;
            return test;
        }
        const char c = peek();
        if (c == '=') {
            test.op = AttributeTest::Op::equals;
            ++pos_;
        } else if (c == '~' || c == '^' || c == '$' || c == '*') {
            ++pos_;
            if (peek() != '=') {
                fail("'=' expected");
            }
            ++pos_;
            test.op = c == '~'   ? AttributeTest::Op::includes_word
                      : c == '^' ? AttributeTest::Op::prefix
                      : c == '$' ? AttributeTest::Op::suffix
                                 : AttributeTest::Op::contains;
        } else if (at_end()) {
            fail("unterminated attribute selector");
        } else {
            fail(std::string("unsupported attribute operator '") + c + "'");
        }
        skip_space();
        if (peek() == '"' || peek() == '\'') {
            const char quote = peek();
            ++pos_;
            const std::size_t start = pos_;
            while (!at_end() && peek() != quote) {
                ++pos_;
            }
            if (at_end()) {
                pos_ = start - 1;
                fail("unterminated string");
            }
            test.value = std::string(text_.substr(start, pos_ - start));
            ++pos_;
        } else {
            test.value = parse_name("attribute value");
        }
        skip_space();
        if (peek() != ']') {
            fail("']' expected");
        }
        ++pos_;
        return test;
    }

    PseudoClass parse_pseudo(bool allow_not) {
        const std::size_t start = pos_;
        const std::string name = lower(parse_name("pseudo-class name"));
        PseudoClass pseudo;
        if (name == "first-child") {
            pseudo.kind = PseudoClass::Kind::first_child;
        } else if (name == "last-child") {
            pseudo.kind = PseudoClass::Kind::last_child;
        } else if (name == "first-of-type") {
            pseudo.kind = PseudoClass::Kind::first_of_type;
        } else if (name == "last-of-type") {
            pseudo.kind = PseudoClass::Kind::last_of_type;
        } else if (name == "not") {
            if (!allow_not) {
                pos_ = start;
                fail("nested :not() is not supported");
            }
            if (peek() != '(') {
                fail("'(' expected after :not");
            }
            ++pos_;
            pseudo.kind = PseudoClass::Kind::not_;
            while (true) {
                skip_space();
                pseudo.negated.push_back(parse_compound(false));
                skip_space();
                if (peek() == ',') {
                    ++pos_;
                    continue;
                }
                if (peek() == ')') {
                    ++pos_;
                    break;
                }
                if (at_end()) {
                    fail("')' expected");
                }
                fail(std::string("unexpected '") + peek() + "' in :not()");
            }
        } else {
            pos_ = start;
            fail("unsupported pseudo-class ':" + name + "'");
        }
        return pseudo;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

}  // namespace

SelectorList parse_selector(std::string_view text) {
    return Parser(text).parse_list();
}

}  // namespace baofeed::css
