// Client identity: the header wins (cut to 128 bytes), else the peer's host
// written as gRPC writes it, whichever transport it came by.
#include "server/serving/client_identity.h"

#include <string>

#include "gtest/gtest.h"

namespace attnserve::server {
namespace {

TEST(ClientIdentityTest, APeerIsItsHostWithoutThePort) {
  EXPECT_EQ(PeerHost("ipv4:10.0.0.7:51234"), "ipv4:10.0.0.7");
  EXPECT_EQ(PeerHost("ipv6:[::1]:51234"), "ipv6:[::1]");
  EXPECT_EQ(PeerHost("ipv6:%5B::1%5D:51234"), "ipv6:[::1]");
  EXPECT_EQ(PeerHost("ipv6:[::1]"), "ipv6:[::1]");
  EXPECT_EQ(PeerHost("ipv6:[::ffff:10.0.0.7]:51234"), "ipv4:10.0.0.7");
  EXPECT_EQ(PeerHost("unix:/tmp/socket"), "unix:/tmp/socket");
}

TEST(ClientIdentityTest, AnHttpAddressIsWrittenAsGrpcWritesItsPeer) {
  EXPECT_EQ(PeerHostOfAddress("10.0.0.7"), PeerHost("ipv4:10.0.0.7:80"));
  EXPECT_EQ(PeerHostOfAddress("::1"), PeerHost("ipv6:[::1]:80"));
  EXPECT_EQ(PeerHostOfAddress("::ffff:127.0.0.1"), "ipv4:127.0.0.1");
  EXPECT_EQ(PeerHostOfAddress(""), "");
}

TEST(ClientIdentityTest, TheHeaderNamesTheClientElseThePeer) {
  EXPECT_EQ(ClientIdentity("billing", "ipv4:10.0.0.7"), "header:billing");
  EXPECT_EQ(ClientIdentity("", "ipv4:10.0.0.7"), "ipv4:10.0.0.7");
  const std::string long_name(300, 'x');
  EXPECT_EQ(ClientIdentity(long_name, "ipv4:10.0.0.7"),
            "header:" + std::string(kMaxClientIdentityBytes, 'x'));
  // A header that looks like an address is still a header.
  EXPECT_NE(ClientIdentity("ipv4:10.0.0.7", ""), ClientIdentity("", "ipv4:10.0.0.7"));
}

}  // namespace
}  // namespace attnserve::server
