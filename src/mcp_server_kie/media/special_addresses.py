"""The IANA special-purpose address registries, as data: every block a download may not reach.

Python's ``is_global`` answers differently between versions (3.11 calls NAT64 and multicast
global, 3.12.4+ changed 192.0.0.0/24, 3.13 more), so the policy is this explicit table instead,
taken from IANA's "IPv4 Special-Purpose Address Registry" and "IPv6 Special-Purpose Address
Registry" (https://www.iana.org/assignments/iana-ipv4-special-registry,
https://www.iana.org/assignments/iana-ipv6-special-registry), plus the multicast ranges and
the IPv6 space outside global unicast, which those registries leave to others. An entry marked
"globally reachable" by IANA (anycast services such as 192.0.0.9) is still refused: no result
file is ever served from one, and the issue is safety, not reachability.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from ipaddress import ip_network

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class SpecialBlock:
    network: IPNetwork
    name: str
    source: str  # the RFC (or registry) that defines it


IPV4_SPECIAL: tuple[SpecialBlock, ...] = (
    SpecialBlock(ip_network("0.0.0.0/8"), "This network", "RFC 791"),
    SpecialBlock(ip_network("0.0.0.0/32"), "This host on this network", "RFC 1122"),
    SpecialBlock(ip_network("10.0.0.0/8"), "Private-Use", "RFC 1918"),
    SpecialBlock(ip_network("100.64.0.0/10"), "Shared Address Space", "RFC 6598"),
    SpecialBlock(ip_network("127.0.0.0/8"), "Loopback", "RFC 1122"),
    SpecialBlock(ip_network("169.254.0.0/16"), "Link Local", "RFC 3927"),
    SpecialBlock(ip_network("172.16.0.0/12"), "Private-Use", "RFC 1918"),
    SpecialBlock(ip_network("192.0.0.0/24"), "IETF Protocol Assignments", "RFC 6890"),
    SpecialBlock(ip_network("192.0.0.0/29"), "IPv4 Service Continuity Prefix", "RFC 7335"),
    SpecialBlock(ip_network("192.0.0.8/32"), "IPv4 dummy address", "RFC 7600"),
    SpecialBlock(ip_network("192.0.0.9/32"), "Port Control Protocol Anycast", "RFC 7723"),
    SpecialBlock(
        ip_network("192.0.0.10/32"), "Traversal Using Relays around NAT Anycast", "RFC 8155"
    ),
    SpecialBlock(ip_network("192.0.0.170/32"), "NAT64/DNS64 Discovery", "RFC 8880"),
    SpecialBlock(ip_network("192.0.0.171/32"), "NAT64/DNS64 Discovery", "RFC 8880"),
    SpecialBlock(ip_network("192.0.2.0/24"), "Documentation (TEST-NET-1)", "RFC 5737"),
    SpecialBlock(ip_network("192.31.196.0/24"), "AS112-v4", "RFC 7535"),
    SpecialBlock(ip_network("192.52.193.0/24"), "AMT", "RFC 7450"),
    SpecialBlock(ip_network("192.88.99.0/24"), "Deprecated (6to4 Relay Anycast)", "RFC 7526"),
    SpecialBlock(ip_network("192.168.0.0/16"), "Private-Use", "RFC 1918"),
    SpecialBlock(ip_network("192.175.48.0/24"), "Direct Delegation AS112 Service", "RFC 7534"),
    SpecialBlock(ip_network("198.18.0.0/15"), "Benchmarking", "RFC 2544"),
    SpecialBlock(ip_network("198.51.100.0/24"), "Documentation (TEST-NET-2)", "RFC 5737"),
    SpecialBlock(ip_network("203.0.113.0/24"), "Documentation (TEST-NET-3)", "RFC 5737"),
    SpecialBlock(ip_network("240.0.0.0/4"), "Reserved", "RFC 1112"),
    SpecialBlock(ip_network("255.255.255.255/32"), "Limited Broadcast", "RFC 8190"),
    # Not in the special-purpose registry (IANA keeps multicast in its own registry).
    SpecialBlock(ip_network("224.0.0.0/4"), "Multicast", "RFC 5771"),
)

IPV6_SPECIAL: tuple[SpecialBlock, ...] = (
    SpecialBlock(ip_network("::1/128"), "Loopback Address", "RFC 4291"),
    SpecialBlock(ip_network("::/128"), "Unspecified Address", "RFC 4291"),
    SpecialBlock(ip_network("::ffff:0:0/96"), "IPv4-mapped Address", "RFC 4291"),
    SpecialBlock(ip_network("64:ff9b::/96"), "IPv4-IPv6 Translation", "RFC 6052"),
    SpecialBlock(ip_network("64:ff9b:1::/48"), "IPv4-IPv6 Translation (local use)", "RFC 8215"),
    SpecialBlock(ip_network("100::/64"), "Discard-Only Address Block", "RFC 6666"),
    SpecialBlock(ip_network("100:0:0:1::/64"), "Dummy IPv6 Prefix", "RFC 9780"),
    SpecialBlock(ip_network("2001::/23"), "IETF Protocol Assignments", "RFC 2928"),
    SpecialBlock(ip_network("2001::/32"), "TEREDO", "RFC 4380"),
    SpecialBlock(ip_network("2001:1::1/128"), "Port Control Protocol Anycast", "RFC 7723"),
    SpecialBlock(
        ip_network("2001:1::2/128"), "Traversal Using Relays around NAT Anycast", "RFC 8155"
    ),
    SpecialBlock(
        ip_network("2001:1::3/128"), "DNS-SD Service Registration Protocol Anycast", "RFC 9665"
    ),
    SpecialBlock(ip_network("2001:2::/48"), "Benchmarking", "RFC 5180"),
    SpecialBlock(ip_network("2001:3::/32"), "AMT", "RFC 7450"),
    SpecialBlock(ip_network("2001:4:112::/48"), "AS112-v6", "RFC 7535"),
    SpecialBlock(ip_network("2001:10::/28"), "Deprecated (previously ORCHID)", "RFC 4843"),
    SpecialBlock(ip_network("2001:20::/28"), "ORCHIDv2", "RFC 7343"),
    SpecialBlock(
        ip_network("2001:30::/28"), "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374"
    ),
    SpecialBlock(ip_network("2001:db8::/32"), "Documentation", "RFC 3849"),
    SpecialBlock(ip_network("2002::/16"), "6to4", "RFC 3056"),
    SpecialBlock(ip_network("2620:4f:8000::/48"), "Direct Delegation AS112 Service", "RFC 7534"),
    SpecialBlock(ip_network("3fff::/20"), "Documentation", "RFC 9637"),
    SpecialBlock(ip_network("5f00::/16"), "Segment Routing (SRv6) SIDs", "RFC 9602"),
    SpecialBlock(ip_network("fc00::/7"), "Unique-Local", "RFC 4193"),
    SpecialBlock(ip_network("fe80::/10"), "Link-Local Unicast", "RFC 4291"),
    # Not in the special-purpose registry.
    SpecialBlock(ip_network("fec0::/10"), "Site-Local (deprecated)", "RFC 3879"),
    SpecialBlock(ip_network("ff00::/8"), "Multicast", "RFC 4291"),
)

# Only this part of the IPv6 space is allocated for global unicast (IANA IPv6 Address Space).
IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")


def special_block(ip: IPAddress) -> SpecialBlock | None:
    """The most specific special-purpose block holding ``ip``, or None."""
    table = IPV4_SPECIAL if isinstance(ip, ipaddress.IPv4Address) else IPV6_SPECIAL
    holding = [entry for entry in table if ip in entry.network]
    return max(holding, key=lambda entry: entry.network.prefixlen, default=None)


def refusal(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public unicast address, or None when it is one."""
    entry = special_block(ip)
    if entry is not None:
        return f"{entry.network} is {entry.name} ({entry.source})"
    if isinstance(ip, ipaddress.IPv6Address) and ip not in IPV6_GLOBAL_UNICAST:
        return f"it lies outside IPv6 global unicast space {IPV6_GLOBAL_UNICAST} (RFC 4291)"
    return None
