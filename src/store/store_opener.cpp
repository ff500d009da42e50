// Choosing the engine: the one place a location becomes an open store.
#include "retrace/store/store.hpp"

namespace retrace::store {

Result<std::unique_ptr<Store>> open_store(const StoreLocation& location, bool create) {
    if (location.is_postgres()) return open_postgres_store(location, create);
    return open_sqlite_store(location.directory(), create);
}

Result<Store*> StoreOpener::open(bool create) {
    if (!m_store) {
        RETRACE_ASSIGN(m_store, open_store(m_location, create));
    }
    if (create && m_store->read_only())
        return error(ErrorCode::io,
                     "cannot write to the store " + m_location.display() + ": it is read-only");
    return m_store.get();
}

}  // namespace retrace::store
