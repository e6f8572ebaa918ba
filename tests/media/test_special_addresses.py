"""The explicit address policy, entry by entry: for every block of the IANA special-purpose
tables its first and last address are refused (naming the block), and the addresses just
outside it pass unless another block or rule holds them."""

from __future__ import annotations

import ipaddress

import pytest

from mcp_server_kie.media.special_addresses import (
    IPV4_SPECIAL,
    IPV6_GLOBAL_UNICAST,
    IPV6_SPECIAL,
    SpecialBlock,
    special_block,
)
from mcp_server_kie.media.ssrf import BlockedError, check_address

ENTRIES = [*IPV4_SPECIAL, *IPV6_SPECIAL]


def _covered(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if special_block(ip) is not None:
        return True
    return isinstance(ip, ipaddress.IPv6Address) and ip not in IPV6_GLOBAL_UNICAST


def _carries_ipv4(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Mapped, NAT64 and 6to4 addresses are judged by the IPv4 address inside them."""
    return isinstance(ip, ipaddress.IPv6Address) and any(
        ip in ipaddress.ip_network(n) for n in ("::ffff:0:0/96", "64:ff9b::/96", "2002::/16")
    )


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: f"{e.network} {e.name}")
def test_every_entry_is_refused_from_its_first_to_its_last_address(entry: SpecialBlock) -> None:
    for ip in (entry.network[0], entry.network[-1]):
        if _carries_ipv4(ip):
            continue  # covered by test_addresses_inside_ipv6_are_judged_by_their_ipv4
        with pytest.raises(BlockedError) as refused:
            check_address(str(ip))
        assert "not a public address" in str(refused.value)
        assert special_block(ip) is not None
    assert entry.source.startswith("RFC") and entry.name


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: f"{e.network} {e.name}")
def test_the_addresses_just_outside_each_entry_pass_unless_held_elsewhere(
    entry: SpecialBlock,
) -> None:
    first, last = entry.network[0], entry.network[-1]
    top = 2**32 - 1 if entry.network.version == 4 else 2**128 - 1
    neighbours = [ip for ip in (int(first) - 1, int(last) + 1) if 0 <= ip <= top]
    for number in neighbours:
        ip = ipaddress.ip_address(number)
        if _covered(ip):
            with pytest.raises(BlockedError):
                check_address(str(ip))
        else:
            check_address(str(ip))  # public: the block ends exactly where the table says


@pytest.mark.parametrize("last_octet", [0, 7, 8, 9, 10, 11, 170, 171, 192, 254, 255])
def test_all_of_192_0_0_0_24_is_refused(last_octet: int) -> None:
    with pytest.raises(BlockedError, match=r"192\.0\.0"):
        check_address(f"192.0.0.{last_octet}")


def test_192_0_0_8_to_255_and_192_0_0_192_are_refused() -> None:
    for octet in range(8, 256):
        with pytest.raises(BlockedError):
            check_address(f"192.0.0.{octet}")
    assert special_block(ipaddress.ip_address("192.0.0.192")) is not None


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("::ffff:8.8.8.8", True),
        ("::ffff:192.0.0.192", False),
        ("64:ff9b::808:808", True),
        ("64:ff9b::c000:c0", False),  # NAT64 of 192.0.0.192
        ("2002:808:808::1", True),
        ("2002:c000:c0::1", False),  # 6to4 of 192.0.0.192
    ],
)
def test_addresses_inside_ipv6_are_judged_by_their_ipv4(address: str, public: bool) -> None:
    if public:
        check_address(address)
    else:
        with pytest.raises(BlockedError):
            check_address(address)


@pytest.mark.parametrize("address", ["4000::1", "8000::1", "1000::1", "::2", "e000::1"])
def test_ipv6_outside_global_unicast_is_refused(address: str) -> None:
    with pytest.raises(BlockedError, match="global unicast"):
        check_address(address)


@pytest.mark.parametrize("address", ["1.1.1.1", "93.184.215.14", "2606:4700::1111", "2a00::1"])
def test_public_addresses_pass(address: str) -> None:
    check_address(address)
