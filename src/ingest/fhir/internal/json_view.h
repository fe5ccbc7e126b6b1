// A small read-only view of a simdjson DOM element, shaped for reading FHIR: a missing member or
// a value of the wrong JSON type reads as absent / empty instead of failing (structure is
// checked first, by fhir_structure.h). Internal to ingest/fhir.
//
// The view is valid as long as the simdjson::dom::parser that produced the element has not
// parsed another document (one parser per thread, reused line after line).
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace oncomesh::ingest::fhir_internal {

class JsonView {
 public:
  JsonView() = default;
  explicit JsonView(simdjson::dom::element e) : e_(e), present_(true) {}

  bool present() const { return present_; }
  explicit operator bool() const { return present_; }
  simdjson::dom::element_type type() const { return e_.type(); }
  simdjson::dom::element element() const { return e_; }

  bool is_object() const { return present_ && e_.is_object(); }
  bool is_array() const { return present_ && e_.is_array(); }
  bool is_string() const { return present_ && e_.is_string(); }
  bool is_bool() const { return present_ && e_.is_bool(); }
  bool is_number() const { return present_ && e_.is_number(); }

  // The member `key` of an object; absent if this is not an object or has no such member.
  JsonView operator[](std::string_view key) const {
    if (!is_object()) return {};
    simdjson::dom::element v;
    if (e_.at_key(key).get(v) != simdjson::SUCCESS) return {};
    return JsonView(v);
  }

  // The string; empty if this is not a string.
  std::string_view str() const {
    std::string_view s;
    if (!present_ || e_.get_string().get(s) != simdjson::SUCCESS) return {};
    return s;
  }
  // The number as a double (0 if not a number); bool value (false if not a boolean).
  double number() const {
    if (!present_) return 0;
    switch (e_.type()) {
      case simdjson::dom::element_type::INT64:
        return static_cast<double>(e_.get_int64().value_unsafe());
      case simdjson::dom::element_type::UINT64:
        return static_cast<double>(e_.get_uint64().value_unsafe());
      case simdjson::dom::element_type::DOUBLE:
        return e_.get_double().value_unsafe();
      default:
        return 0;
    }
  }
  bool boolean() const { return is_bool() && e_.get_bool().value_unsafe(); }

  // Array size (0 if not an array); the element at `i` (absent if out of range).
  size_t size() const {
    simdjson::dom::array a;
    if (!present_ || e_.get_array().get(a) != simdjson::SUCCESS) return 0;
    return a.size();
  }
  bool empty() const { return size() == 0; }
  JsonView at(size_t i) const {
    simdjson::dom::array a;
    if (!present_ || e_.get_array().get(a) != simdjson::SUCCESS) return {};
    simdjson::dom::element v;
    if (a.at(i).get(v) != simdjson::SUCCESS) return {};
    return JsonView(v);
  }

  // Range over an array's items (empty if this is not an array).
  class Items {
   public:
    class Iterator {
     public:
      explicit Iterator(simdjson::dom::array::iterator it) : it_(it) {}
      JsonView operator*() const { return JsonView(*it_); }
      Iterator& operator++() {
        ++it_;
        return *this;
      }
      bool operator!=(const Iterator& o) const { return it_ != o.it_; }

     private:
      simdjson::dom::array::iterator it_;
    };
    explicit Items(simdjson::dom::array a) : a_(a) {}
    Iterator begin() const { return Iterator(a_.begin()); }
    Iterator end() const { return Iterator(a_.end()); }

   private:
    simdjson::dom::array a_;
  };
  Items items() const;

 private:
  simdjson::dom::element e_;
  bool present_ = false;
};

}  // namespace oncomesh::ingest::fhir_internal
