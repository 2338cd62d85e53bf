// The SQLite location store against real files, one fresh directory per test. Times are Unix
// seconds passed in by the test; nothing here reads the clock or sleeps.

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.hpp"
#include "core/connection_id.hpp"
#include "store/location_sqlite.hpp"
#include "store/sqlite.hpp"

namespace strowger::store {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kNow = 1'700'000'000;

using test::TempDir;

sip::Binding binding(std::string contact, std::int64_t expires_at) {
    sip::Binding b;
    b.contact = std::move(contact);
    b.call_id = "call-" + b.contact;
    b.cseq = 1;
    b.expires_at = expires_at;
    b.flow.remote = core::IpEndpoint::v4({192, 0, 2, 1}, 5060);
    return b;
}

// Replaces the AOR's list with `bindings`.
sip::Bindings store(SqliteLocationStore& location, std::string_view aor, sip::Bindings bindings,
                    std::int64_t now = kNow) {
    return location.update(aor, now, [&](sip::Bindings& current) {
        current = bindings;
        return true;
    });
}

// Rows on disk, read behind the store's back.
std::int64_t row_count(const std::string& database) {
    Database db(database);
    Statement count(db, "SELECT count(*) FROM location_bindings");
    EXPECT_TRUE(count.step());
    return count.int_column(0);
}

TEST(SqliteLocationStore, UpdateThenLookup) {
    TempDir dir;
    SqliteLocationStore location(dir.database(), kNow);
    EXPECT_TRUE(location.lookup("sip:alice@example.com", kNow).empty());

    const sip::Bindings alice{binding("sip:alice@192.0.2.1", kNow + 3600),
                              binding("sip:alice@192.0.2.2", kNow + 60)};
    EXPECT_EQ(store(location, "sip:alice@example.com", alice), alice);
    EXPECT_EQ(location.lookup("sip:alice@example.com", kNow), alice);
    EXPECT_TRUE(location.lookup("sip:bob@example.com", kNow).empty());
    EXPECT_EQ(location.binding_count(kNow), 2U);

    // `change` sees what is stored and edits it.
    const auto after = location.update("sip:alice@example.com", kNow, [&](sip::Bindings& current) {
        EXPECT_EQ(current, alice);
        current.pop_back();
        return true;
    });
    EXPECT_EQ(after, sip::Bindings{alice.front()});
    EXPECT_EQ(location.lookup("sip:alice@example.com", kNow), after);
}

TEST(SqliteLocationStore, ChangeReturningFalseLeavesState) {
    TempDir dir;
    SqliteLocationStore location(dir.database(), kNow);
    const sip::Bindings alice{binding("sip:alice@192.0.2.1", kNow + 3600)};
    store(location, "sip:alice@example.com", alice);

    const auto result = location.update("sip:alice@example.com", kNow, [](sip::Bindings& current) {
        current.clear();
        return false;
    });
    EXPECT_EQ(result, alice);
    EXPECT_EQ(location.lookup("sip:alice@example.com", kNow), alice);

    // Nor is anything created for an AOR that had no bindings.
    location.update("sip:bob@example.com", kNow, [](sip::Bindings& current) {
        current.push_back(binding("sip:bob@192.0.2.9", kNow + 3600));
        return false;
    });
    EXPECT_TRUE(location.lookup("sip:bob@example.com", kNow).empty());
    EXPECT_EQ(location.binding_count(kNow), 1U);
}

TEST(SqliteLocationStore, ExpiredBindingsAreNotReturnedNorCounted) {
    TempDir dir;
    SqliteLocationStore location(dir.database(), kNow);
    const auto short_lived = binding("sip:alice@192.0.2.1", kNow + 10);
    const auto long_lived = binding("sip:alice@192.0.2.2", kNow + 100);
    store(location, "sip:alice@example.com", {short_lived, long_lived});
    store(location, "sip:bob@example.com", {binding("sip:bob@192.0.2.3", kNow + 10)});

    EXPECT_EQ(location.binding_count(kNow + 9), 3U);
    // At expires_at a binding has expired.
    EXPECT_EQ(location.lookup("sip:alice@example.com", kNow + 10), sip::Bindings{long_lived});
    EXPECT_TRUE(location.lookup("sip:bob@example.com", kNow + 10).empty());
    EXPECT_EQ(location.binding_count(kNow + 10), 1U);
    EXPECT_EQ(location.binding_count(kNow + 100), 0U);

    // `change` is handed only the live ones.
    location.update("sip:alice@example.com", kNow + 10, [&](sip::Bindings& current) {
        EXPECT_EQ(current, sip::Bindings{long_lived});
        return false;
    });
}

TEST(SqliteLocationStore, BindingsSurviveReopening) {
    TempDir dir;
    sip::Binding over_v4;
    over_v4.contact = "sip:alice@192.0.2.10:5060;transport=tcp;ob";
    over_v4.path = "<sip:edge1.example.com;lr>, <sip:edge2.example.com;lr>";
    over_v4.call_id = "a84b4c76e66710@pc33.example.com";
    over_v4.cseq = 4'000'000'000U;
    over_v4.expires_at = kNow + 3600;
    over_v4.q = 700;
    over_v4.flow.transport = core::Transport::Tcp;
    over_v4.flow.remote = core::IpEndpoint::v4({192, 0, 2, 10}, 50123);
    over_v4.flow.connection_id = core::make_connection_id(3, 42);
    over_v4.user_agent = "Linphone/5.2.0 (belle-sip/5.2.0)";

    sip::Binding over_v6;
    over_v6.contact = "sip:alice@[2001:db8::7]:5062";
    over_v6.call_id = "1-2-3";
    over_v6.cseq = 0;
    over_v6.expires_at = kNow + 120;
    over_v6.q = 0;
    over_v6.flow.transport = core::Transport::Udp;
    over_v6.flow.remote =
        core::IpEndpoint::v6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07}, 5062);

    sip::Binding over_wss = binding("sip:k3l2@df7jal23ls0d.invalid;transport=ws", kNow + 600);
    over_wss.flow.transport = core::Transport::Wss;
    over_wss.flow.remote = core::IpEndpoint::v6(
        {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55}, 443);
    over_wss.flow.connection_id = core::make_connection_id(0, 1);
    over_wss.instance = "\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\"";
    over_wss.reg_id = 1;

    {
        SqliteLocationStore location(dir.database(), kNow);
        store(location, "sip:alice@example.com", {over_v4, over_v6});
        store(location, "sip:carol@example.com", {over_wss});
    } // the destructor writes what is queued

    SqliteLocationStore reopened(dir.database(), kNow + 1);
    // Connections do not survive a restart; everything else does, in the same order.
    over_v4.flow.connection_id = 0;
    over_wss.flow.connection_id = 0;
    EXPECT_EQ(reopened.lookup("sip:alice@example.com", kNow + 1),
              (sip::Bindings{over_v4, over_v6}));
    EXPECT_EQ(reopened.lookup("sip:carol@example.com", kNow + 1), sip::Bindings{over_wss});
    EXPECT_EQ(reopened.binding_count(kNow + 1), 3U);
}

// A file written before bindings had an instance and reg-id (schema 1) is brought to
// schema 2 in place; its bindings stay, with neither.
TEST(SqliteLocationStore, SchemaOneFileIsUpgraded) {
    TempDir dir;
    {
        Database db(dir.database());
        db.execute(R"sql(
CREATE TABLE location_bindings (
    aor TEXT NOT NULL, position INTEGER NOT NULL, contact TEXT NOT NULL, path TEXT NOT NULL,
    call_id TEXT NOT NULL, cseq INTEGER NOT NULL, expires_at INTEGER NOT NULL,
    q INTEGER NOT NULL, transport TEXT NOT NULL, remote_address TEXT NOT NULL,
    remote_port INTEGER NOT NULL, user_agent TEXT NOT NULL, PRIMARY KEY (aor, position)
) WITHOUT ROWID;
INSERT INTO location_bindings VALUES ('sip:bob@example.com', 0, 'sip:bob@192.0.2.5', '',
    'c1', 7, 1700003600, 1000, 'udp', '192.0.2.5', 5060, 'old phone');
PRAGMA user_version=1;
)sql");
    }
    SqliteLocationStore location(dir.database(), kNow);
    auto found = location.lookup("sip:bob@example.com", kNow);
    ASSERT_EQ(found.size(), 1U);
    EXPECT_EQ(found[0].contact, "sip:bob@192.0.2.5");
    EXPECT_EQ(found[0].user_agent, "old phone");
    EXPECT_EQ(found[0].reg_id, 0U);
    EXPECT_TRUE(found[0].instance.empty());
    Database check(dir.database());
    Statement version(check, "PRAGMA user_version");
    ASSERT_TRUE(version.step());
    EXPECT_EQ(version.int_column(0), 2);
}

TEST(SqliteLocationStore, ExpiredRowsAreDeletedAtOpen) {
    TempDir dir;
    const auto lasting = binding("sip:alice@192.0.2.2", kNow + 1000);
    {
        SqliteLocationStore location(dir.database(), kNow);
        store(location, "sip:alice@example.com",
              {binding("sip:alice@192.0.2.1", kNow + 10), lasting});
        store(location, "sip:bob@example.com", {binding("sip:bob@192.0.2.3", kNow + 10)});
        location.flush();
        EXPECT_EQ(row_count(dir.database()), 3);
    }
    {
        SqliteLocationStore location(dir.database(), kNow + 100);
        EXPECT_EQ(location.lookup("sip:alice@example.com", kNow + 100), sip::Bindings{lasting});
        EXPECT_TRUE(location.lookup("sip:bob@example.com", kNow + 100).empty());
    }
    EXPECT_EQ(row_count(dir.database()), 1);
}

TEST(SqliteLocationStore, EmptyListErasesTheAor) {
    TempDir dir;
    {
        SqliteLocationStore location(dir.database(), kNow);
        store(location, "sip:alice@example.com", {binding("sip:alice@192.0.2.1", kNow + 3600)});
        location.flush();
        EXPECT_EQ(row_count(dir.database()), 1);

        EXPECT_TRUE(store(location, "sip:alice@example.com", {}).empty());
        EXPECT_TRUE(location.lookup("sip:alice@example.com", kNow).empty());
        EXPECT_EQ(location.binding_count(kNow), 0U);
        location.flush();
        EXPECT_EQ(row_count(dir.database()), 0);
    }
    SqliteLocationStore reopened(dir.database(), kNow);
    EXPECT_TRUE(reopened.lookup("sip:alice@example.com", kNow).empty());
}

TEST(SqliteLocationStore, PruneDropsExpiredBindingsFromMemoryAndDisk) {
    TempDir dir;
    const auto lasting_alice = binding("sip:alice@192.0.2.2", kNow + 1000);
    const auto lasting_carol = binding("sip:carol@192.0.2.4", kNow + 1000);
    {
        SqliteLocationStore location(dir.database(), kNow);
        store(location, "sip:alice@example.com",
              {binding("sip:alice@192.0.2.1", kNow + 10), lasting_alice});
        store(location, "sip:bob@example.com", {binding("sip:bob@192.0.2.3", kNow + 10)});
        store(location, "sip:carol@example.com", {lasting_carol});

        EXPECT_EQ(location.prune(kNow + 9), 0U);
        EXPECT_EQ(location.prune(kNow + 10), 2U);
        EXPECT_EQ(location.prune(kNow + 10), 0U);
        // Gone from memory, even for a reader that asks about an earlier moment.
        EXPECT_EQ(location.binding_count(kNow), 2U);
        EXPECT_TRUE(location.lookup("sip:bob@example.com", kNow).empty());
        location.flush();
        EXPECT_EQ(row_count(dir.database()), 2);
    }
    // Opening at the earlier moment would load the dropped rows had they stayed on disk.
    SqliteLocationStore reopened(dir.database(), kNow);
    EXPECT_EQ(reopened.lookup("sip:alice@example.com", kNow), sip::Bindings{lasting_alice});
    EXPECT_TRUE(reopened.lookup("sip:bob@example.com", kNow).empty());
    EXPECT_EQ(reopened.lookup("sip:carol@example.com", kNow), sip::Bindings{lasting_carol});
}

TEST(SqliteLocationStore, ConcurrentUpdatesAreAllPersisted) {
    constexpr int kThreads = 4;
    constexpr int kAorsPerThread = 500;
    const auto aor = [](int thread, int i) {
        return "sip:user" + std::to_string(thread) + "-" + std::to_string(i) + "@example.com";
    };
    TempDir dir;
    {
        SqliteLocationStore location(dir.database(), kNow);
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < kAorsPerThread; ++i) {
                    const auto name = aor(t, i);
                    store(location, name, {binding("sip:" + name + ";first", kNow + 3600)});
                    // A refresh: only the latest list needs to reach the disk.
                    location.update(name, kNow, [](sip::Bindings& current) {
                        current.front().cseq = 2;
                        return true;
                    });
                    EXPECT_EQ(location.lookup(name, kNow).size(), 1U);
                }
            });
        }
        for (auto& thread : threads) {
            thread.join();
        }
        location.flush();
        EXPECT_EQ(row_count(dir.database()), kThreads * kAorsPerThread);
        EXPECT_EQ(location.binding_count(kNow), std::size_t{kThreads * kAorsPerThread});
    }
    SqliteLocationStore reopened(dir.database(), kNow);
    EXPECT_EQ(reopened.binding_count(kNow), std::size_t{kThreads * kAorsPerThread});
    for (int t = 0; t < kThreads; ++t) {
        for (int i = 0; i < kAorsPerThread; ++i) {
            const auto found = reopened.lookup(aor(t, i), kNow);
            ASSERT_EQ(found.size(), 1U) << aor(t, i);
            EXPECT_EQ(found.front().cseq, 2U) << aor(t, i);
        }
    }
}

TEST(SqliteLocationStore, FailedWritesLeaveMemoryServing) {
    TempDir dir;
    SqliteLocationStore location(dir.database(), kNow);
    store(location, "sip:alice@example.com", {binding("sip:alice@192.0.2.1", kNow + 3600)});
    location.flush();
    {
        // Someone breaks the file behind the store's back: every later write fails.
        Database db(dir.database());
        db.execute("DROP TABLE location_bindings");
    }
    const sip::Bindings bob{binding("sip:bob@192.0.2.2", kNow + 3600)};
    store(location, "sip:bob@example.com", bob);
    location.flush(); // the failure is logged, and flush() does not wait for a retry
    EXPECT_EQ(location.lookup("sip:bob@example.com", kNow), bob);
    EXPECT_EQ(location.binding_count(kNow), 2U);
}

TEST(SqliteLocationStore, MissingDirectoryThrowsNamingThePath) {
    TempDir dir;
    const auto path = (dir.path() / "no-such-directory" / "strowger.db").string();
    try {
        SqliteLocationStore location(path, kNow);
        FAIL() << "opened " << path;
    } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
}

} // namespace
} // namespace strowger::store
