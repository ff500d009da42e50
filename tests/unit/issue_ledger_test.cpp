#include "retrace/proxy/issue_ledger.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>

namespace retrace::proxy {
namespace {

void write_count(const std::filesystem::path& file, std::uint64_t n) {
    unsigned char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(n >> (8 * i));
    std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(b), sizeof b);
}

TEST(IssueLedger, CaughtUpOnlyOnceEveryCountedEventIsReceived) {
    auto ledger = IssueLedger::create();
    ASSERT_TRUE(ledger);
    auto dir = ledger->dir();
    EXPECT_TRUE(ledger->caught_up());  // no SDK process: nothing to wait for
    write_count(dir / "100-1", 2);
    write_count(dir / "200-1", 1);
    std::ofstream(dir / "300-1");          // created, not yet written: no count
    write_count(dir / "NOT A LEDGER", 9);  // not a name the SDKs make: ignored
    EXPECT_FALSE(ledger->caught_up());
    ledger->received("100-1", 1);
    ledger->received("200-1", 1);
    EXPECT_FALSE(ledger->caught_up());
    ledger->received("100-1", 2);
    EXPECT_TRUE(ledger->caught_up());
    ledger->received("100-1", 1);  // (a lower number never lowers what was seen)
    EXPECT_TRUE(ledger->caught_up());

    // A process that died with an event unsent: waited for until given up,
    // then only its later events are.
    write_count(dir / "200-1", 2);
    EXPECT_FALSE(ledger->caught_up());
    ledger->give_up();
    EXPECT_TRUE(ledger->caught_up());
    write_count(dir / "200-1", 3);
    EXPECT_FALSE(ledger->caught_up());
    ledger->received("200-1", 3);
    EXPECT_TRUE(ledger->caught_up());

    ledger.reset();
    EXPECT_FALSE(std::filesystem::exists(dir));  // removed with the run
}

TEST(IssueLedger, NamesAreWhatTheSdksMake) {
    EXPECT_TRUE(IssueLedger::valid_name("4242-1234567890"));
    EXPECT_FALSE(IssueLedger::valid_name(""));
    EXPECT_FALSE(IssueLedger::valid_name("../x"));
    EXPECT_FALSE(IssueLedger::valid_name(std::string(65, '1')));
}

}  // namespace
}  // namespace retrace::proxy
