// The SQLite user store against real files, one fresh directory per test: the keys it keeps,
// the checks on names and passwords, and its life next to the location store in one file.

#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.hpp"
#include "store/location_sqlite.hpp"
#include "store/sqlite.hpp"
#include "store/user_sqlite.hpp"
#include "stun/integrity.hpp"

namespace strowger::store {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kNow = 1'700'000'000;

// Computed once with: printf 'alice:strowger:secret' | md5sum (and sha256sum).
constexpr const char* kAliceMd5 = "aa89d19a18d4edce9ee91328fd41ce02";
constexpr const char* kAliceSha256 =
    "c5da7b4896a394a4c7810091188d540ac596e3172b0b7a5e493383f7fd335a90";
// printf 'alice:strowger:n3w-pass' | md5sum, and 'alice:other.example:n3w-pass'.
constexpr const char* kAliceNewMd5 = "e87a9bc698eb8a56c9fa5619dd34ec58";
constexpr const char* kAliceOtherRealmMd5 = "14bd49651ae87f52db27af728b0ea7e9";

using test::TempDir;

template <std::size_t N> std::string hex(const std::array<std::uint8_t, N>& bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (auto b : bytes) {
        out += kDigits[b >> 4];
        out += kDigits[b & 0x0f];
    }
    return out;
}

std::string file_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> names(const std::vector<UserRecord>& users) {
    std::vector<std::string> out;
    for (const auto& user : users) {
        out.push_back(user.name);
    }
    return out;
}

TEST(SqliteUserStore, AddThenFindGivesTheLongTermKeys) {
    TempDir dir;
    SqliteUserStore users(dir.database());
    EXPECT_FALSE(users.find_user("alice", "strowger"));

    ASSERT_TRUE(users.add("alice", "strowger", "secret", kNow));
    const auto keys = users.find_user("alice", "strowger");
    ASSERT_TRUE(keys);
    EXPECT_EQ(hex(keys->md5), kAliceMd5);
    EXPECT_EQ(hex(keys->sha256), kAliceSha256);
    // The very keys the STUN integrity code derives from the password.
    EXPECT_EQ(keys->md5, stun::long_term_key_md5("alice", "strowger", "secret"));
    EXPECT_EQ(keys->sha256, stun::long_term_key_sha256("alice", "strowger", "secret"));

    EXPECT_FALSE(users.find_user("bob", "strowger"));
    EXPECT_FALSE(users.find_user("Alice", "strowger")) << "names are case-sensitive";
}

TEST(SqliteUserStore, DuplicateAddIsRefusedAndKeepsTheKeys) {
    TempDir dir;
    SqliteUserStore users(dir.database());
    ASSERT_TRUE(users.add("alice", "strowger", "secret", kNow));
    EXPECT_FALSE(users.add("alice", "strowger", "other", kNow + 5));
    EXPECT_FALSE(users.add("alice", "other.example", "other", kNow + 5));

    const auto keys = users.find_user("alice", "strowger");
    ASSERT_TRUE(keys);
    EXPECT_EQ(hex(keys->md5), kAliceMd5);
    const auto listed = users.list();
    ASSERT_EQ(listed.size(), 1U);
    EXPECT_EQ(listed[0].updated, kNow);
}

TEST(SqliteUserStore, SetPasswordReplacesTheKeys) {
    TempDir dir;
    SqliteUserStore users(dir.database());
    ASSERT_TRUE(users.add("alice", "strowger", "secret", kNow));
    ASSERT_TRUE(users.set_password("alice", "strowger", "n3w-pass", kNow + 60));

    const auto keys = users.find_user("alice", "strowger");
    ASSERT_TRUE(keys);
    EXPECT_EQ(hex(keys->md5), kAliceNewMd5);
    EXPECT_EQ(keys->sha256, stun::long_term_key_sha256("alice", "strowger", "n3w-pass"));

    const auto listed = users.list();
    ASSERT_EQ(listed.size(), 1U);
    EXPECT_EQ(listed[0].created, kNow);
    EXPECT_EQ(listed[0].updated, kNow + 60);

    EXPECT_FALSE(users.set_password("bob", "strowger", "whatever", kNow));
    EXPECT_FALSE(users.find_user("bob", "strowger")) << "set_password creates no user";
}

TEST(SqliteUserStore, SetPasswordMovesTheUserToTheGivenRealm) {
    TempDir dir;
    SqliteUserStore users(dir.database());
    ASSERT_TRUE(users.add("alice", "strowger", "secret", kNow));
    ASSERT_TRUE(users.set_password("alice", "other.example", "n3w-pass", kNow + 1));

    EXPECT_FALSE(users.find_user("alice", "strowger"));
    const auto keys = users.find_user("alice", "other.example");
    ASSERT_TRUE(keys);
    EXPECT_EQ(hex(keys->md5), kAliceOtherRealmMd5);
    EXPECT_EQ(users.list().at(0).realm, "other.example");
}

TEST(SqliteUserStore, KeysOfAnotherRealmAreNotFound) {
    TempDir dir;
    SqliteUserStore users(dir.database());
    ASSERT_TRUE(users.add("alice", "strowger", "secret", kNow));
    EXPECT_FALSE(users.find_user("alice", "example.org"));
    EXPECT_FALSE(users.find_user("alice", ""));
    EXPECT_FALSE(users.find_user("alice", "Strowger"));
    EXPECT_TRUE(users.find_user("alice", "strowger"));
}

TEST(SqliteUserStore, RemoveDeletesTheUser) {
    TempDir dir;
    SqliteUserStore users(dir.database());
    ASSERT_TRUE(users.add("alice", "strowger", "secret", kNow));
    ASSERT_TRUE(users.add("bob", "strowger", "secret", kNow));

    EXPECT_TRUE(users.remove("alice"));
    EXPECT_FALSE(users.find_user("alice", "strowger"));
    EXPECT_TRUE(users.find_user("bob", "strowger"));
    EXPECT_FALSE(users.remove("alice"));
    EXPECT_FALSE(users.remove("a:b")) << "a name add() refuses is simply not found";
    EXPECT_EQ(names(users.list()), std::vector<std::string>{"bob"});

    // The name is free again.
    EXPECT_TRUE(users.add("alice", "strowger", "n3w-pass", kNow + 1));
    EXPECT_EQ(hex(users.find_user("alice", "strowger")->md5), kAliceNewMd5);
}

TEST(SqliteUserStore, ListIsSortedByNameAndShowsRealmAndTimes) {
    TempDir dir;
    SqliteUserStore users(dir.database());
    EXPECT_TRUE(users.list().empty());
    ASSERT_TRUE(users.add("carol", "strowger", "pw", kNow + 3));
    ASSERT_TRUE(users.add("alice", "strowger", "pw", kNow + 1));
    ASSERT_TRUE(users.add("bob", "example.org", "pw", kNow + 2));
    ASSERT_TRUE(users.add("Zed", "strowger", "pw", kNow + 4));

    const auto listed = users.list();
    // Byte order: upper case sorts before lower case.
    EXPECT_EQ(names(listed), (std::vector<std::string>{"Zed", "alice", "bob", "carol"}));
    EXPECT_EQ(listed[2].realm, "example.org");
    EXPECT_EQ(listed[2].created, kNow + 2);
    EXPECT_EQ(listed[2].updated, kNow + 2);
    EXPECT_EQ(listed[1].realm, "strowger");
}

TEST(SqliteUserStore, UsersSurviveReopening) {
    TempDir dir;
    {
        SqliteUserStore users(dir.database());
        ASSERT_TRUE(users.add("alice", "strowger", "secret", kNow));
        ASSERT_TRUE(users.add("bob", "strowger", "pw", kNow));
        ASSERT_TRUE(users.remove("bob"));
    }
    SqliteUserStore users(dir.database());
    const auto keys = users.find_user("alice", "strowger");
    ASSERT_TRUE(keys);
    EXPECT_EQ(hex(keys->md5), kAliceMd5);
    EXPECT_EQ(hex(keys->sha256), kAliceSha256);
    EXPECT_EQ(names(users.list()), std::vector<std::string>{"alice"});
}

TEST(SqliteUserStore, ThePasswordIsNeverWritten) {
    TempDir dir;
    const std::string password = "Pl4in-Text-P4ssword";
    {
        SqliteUserStore users(dir.database());
        ASSERT_TRUE(users.add("alice", "strowger", password, kNow));
        ASSERT_TRUE(users.add("bob", "strowger", "first-" + password, kNow));
        ASSERT_TRUE(users.set_password("bob", "strowger", password + "-second", kNow));
    }
    // Every file SQLite may have written: the database, its WAL and shared memory.
    std::string all;
    for (const auto& entry : fs::directory_iterator(dir.path())) {
        all += file_bytes(entry.path());
    }
    EXPECT_NE(all.find("alice"), std::string::npos) << "the files were read";
    EXPECT_EQ(all.find(password), std::string::npos);
}

TEST(SqliteUserStore, ConcurrentLookupsWhileAnotherConnectionWrites) {
    TempDir dir;
    SqliteUserStore users(dir.database());
    constexpr int kUsers = 20;
    std::vector<stun::Md5Digest> expected;
    for (int i = 0; i < kUsers; ++i) {
        const auto name = "user" + std::to_string(i);
        ASSERT_TRUE(users.add(name, "strowger", "pw" + std::to_string(i), kNow));
        expected.push_back(stun::long_term_key_md5(name, "strowger", "pw" + std::to_string(i)));
    }

    // As `strowger user add` does while the server runs: a second connection to the same file.
    std::atomic<bool> writing{true};
    std::thread writer([&] {
        SqliteUserStore command(dir.database());
        for (int i = 0; i < 50; ++i) {
            EXPECT_TRUE(command.add("new" + std::to_string(i), "strowger", "pw", kNow));
        }
        writing = false;
    });

    std::atomic<int> wrong{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 4; ++t) {
        readers.emplace_back([&, t] {
            for (int round = 0; round < 500 || writing; ++round) {
                const int i = (round + t) % kUsers;
                const auto keys = users.find_user("user" + std::to_string(i), "strowger");
                if (!keys || keys->md5 != expected[static_cast<std::size_t>(i)]) {
                    ++wrong;
                }
                if (users.find_user("nobody", "strowger")) {
                    ++wrong;
                }
            }
        });
    }
    writer.join();
    for (auto& reader : readers) {
        reader.join();
    }
    EXPECT_EQ(wrong.load(), 0);
    // Writes made through the other connection are seen without reopening.
    EXPECT_TRUE(users.find_user("new49", "strowger"));
    EXPECT_EQ(users.list().size(), static_cast<std::size_t>(kUsers + 50));
}

TEST(SqliteUserStore, SharesTheFileWithTheLocationStore) {
    sip::Binding binding;
    binding.contact = "sip:alice@192.0.2.1";
    binding.call_id = "call-1";
    binding.cseq = 1;
    binding.expires_at = kNow + 3600;
    binding.flow.remote = core::IpEndpoint::v4({192, 0, 2, 1}, 5060);
    const auto register_alice = [&](SqliteLocationStore& location) {
        location.update("sip:alice@example.com", kNow, [&](sip::Bindings& current) {
            current = {binding};
            return true;
        });
        location.flush();
    };

    // Whichever store creates the file, the other one opens it and adds its table.
    for (const bool users_first : {true, false}) {
        SCOPED_TRACE(users_first ? "user store first" : "location store first");
        TempDir dir;
        {
            std::unique_ptr<SqliteUserStore> users;
            std::unique_ptr<SqliteLocationStore> location;
            if (users_first) {
                users = std::make_unique<SqliteUserStore>(dir.database());
                location = std::make_unique<SqliteLocationStore>(dir.database(), kNow);
            } else {
                location = std::make_unique<SqliteLocationStore>(dir.database(), kNow);
                users = std::make_unique<SqliteUserStore>(dir.database());
            }
            ASSERT_TRUE(users->add("alice", "strowger", "secret", kNow));
            register_alice(*location);
            EXPECT_TRUE(users->find_user("alice", "strowger"));
            EXPECT_EQ(location->binding_count(kNow), 1U);
        }
        SqliteLocationStore location(dir.database(), kNow);
        SqliteUserStore users(dir.database());
        EXPECT_EQ(location.lookup("sip:alice@example.com", kNow), sip::Bindings{binding});
        EXPECT_TRUE(users.find_user("alice", "strowger"));

        Database db(dir.database());
        Statement journal(db, "PRAGMA journal_mode");
        ASSERT_TRUE(journal.step());
        EXPECT_EQ(journal.text_column(0), "wal");
    }
}

TEST(SqliteUserStore, FindUserNeverThrows) {
    TempDir dir;
    SqliteUserStore users(dir.database());
    ASSERT_TRUE(users.add("alice", "strowger", "secret", kNow));
    ASSERT_TRUE(users.add("bob", "strowger", "secret", kNow));
    {
        // Damage behind the store's back, as an operator with the sqlite3 shell might.
        Database db(dir.database());
        db.execute("UPDATE users SET ha1_md5 = 'not hex' WHERE name = 'bob'");
    }
    EXPECT_FALSE(users.find_user("bob", "strowger"));
    EXPECT_TRUE(users.find_user("alice", "strowger"));
    {
        Database db(dir.database());
        db.execute("DROP TABLE users");
    }
    std::optional<turn::UserKeys> keys;
    EXPECT_NO_THROW(keys = users.find_user("alice", "strowger"));
    EXPECT_FALSE(keys);
}

TEST(SqliteUserStore, MissingDirectoryThrowsNamingThePath) {
    TempDir dir;
    const auto path = (dir.path() / "missing" / "strowger.db").string();
    try {
        SqliteUserStore users(path);
        FAIL() << "opened a database in a missing directory";
    } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
}

TEST(SqliteUserStore, InvalidNamesAndPasswordsAreRefusedAndNothingIsStored) {
    TempDir dir;
    SqliteUserStore users(dir.database());
    EXPECT_THROW(users.add("", "strowger", "pw", kNow), std::invalid_argument);
    EXPECT_THROW(users.add("a:b", "strowger", "pw", kNow), std::invalid_argument);
    EXPECT_THROW(users.add("alice", "strowger", "", kNow), std::invalid_argument);
    ASSERT_TRUE(users.add("alice", "strowger", "pw", kNow));
    EXPECT_THROW(users.set_password("alice", "strowger", "bad\npw", kNow), std::invalid_argument);
    EXPECT_EQ(names(users.list()), std::vector<std::string>{"alice"});
    EXPECT_EQ(users.find_user("alice", "strowger")->md5,
              stun::long_term_key_md5("alice", "strowger", "pw"));
}

TEST(UserValidation, Names) {
    const std::vector<std::string> good = {"alice", "a", "alice.o'hara+tag@example.com",
                                           "Bob_2-x~!", std::string(128, 'n')};
    for (const auto& name : good) {
        EXPECT_NO_THROW(validate_user_name(name)) << name;
    }
    const std::vector<std::string> bad = {
        "",     std::string(129, 'n'),  "a:b",  ":",         "1700000000:alice", "a b", " ", "a\tb",
        "a\nb", std::string("a\0b", 3), "\x7f", "m\xc3\xa4x"};
    for (const auto& name : bad) {
        EXPECT_THROW(validate_user_name(name), std::invalid_argument) << name;
    }
    try {
        validate_user_name("a:b");
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("':'"), std::string::npos) << e.what();
    }
    try {
        validate_user_name("");
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("empty"), std::string::npos) << e.what();
    }
}

TEST(UserValidation, Passwords) {
    const std::vector<std::string> good = {"p",
                                           "with spaces",
                                           "p\xc3\xa4sswort",              // U+00E4
                                           "\xe2\x82\xac\xf0\x9f\x94\x91", // U+20AC U+1F511
                                           ":colons:",
                                           std::string(256, 'p')};
    for (const auto& password : good) {
        EXPECT_NO_THROW(validate_password(password)) << password;
    }
    const std::vector<std::string> bad = {"",
                                          std::string(257, 'p'),
                                          "a\nb",
                                          "a\tb",
                                          std::string("a\0b", 3),
                                          "\x7f",
                                          "a\xc2\x85",         // U+0085, a C1 control
                                          "\xff",              // not UTF-8
                                          "\xc3",              // truncated
                                          "\xc0\xaf",          // overlong '/'
                                          "\xed\xa0\x80",      // a surrogate
                                          "\xf4\x90\x80\x80"}; // beyond U+10FFFF
    for (const auto& password : bad) {
        EXPECT_THROW(validate_password(password), std::invalid_argument);
    }
    try {
        validate_password("s3cret\n");
        FAIL();
    } catch (const std::invalid_argument& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("control"), std::string::npos) << what;
        EXPECT_EQ(what.find("s3cret"), std::string::npos) << "the message repeats the password";
    }
}

} // namespace
} // namespace strowger::store
