// Exceptions for bugs and bad configuration. Failures of the outside world are values, never these.
#pragma once

#include <stdexcept>
#include <string>

namespace baofeed {

// Invalid configuration. what() reads "file:line: key: reason".
class ConfigError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// The database could not be opened, migrated or written. what() starts with "storage: ".
class StorageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Output could not be written. what() starts with "publish: ".
class PublishError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace baofeed
