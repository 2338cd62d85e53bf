#pragma once
// The one exception the stores throw: a database that cannot be opened, created or read at
// start-up. Once running, a store logs write failures instead of throwing them at callers.

#include <stdexcept>

namespace strowger::store {

class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

} // namespace strowger::store
