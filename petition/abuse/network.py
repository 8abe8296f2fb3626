"""Where a submission came from, as abuse review may keep it: keyed hashes of the client
address and of its block, never the address itself.

The block is what one household, office or small hoster holds: a /24 for IPv4, a /64 for
IPv6 (the smallest prefix a provider gives a customer), an IPv4-mapped IPv6 address counted
as its IPv4 address (a dual-stack proxy must not make one client look like another block).
Hashes are keyed (addresses.keyed_hash, purposes of their own): without the key nobody can
test a guessed address against the table, and the same address or block gives the same hash
in every process, so trends and rules can name a block by it.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from petition.addresses import keyed_hash

ADDRESS_PURPOSE = "client-address"
BLOCK_PURPOSE = "client-block"
HASH_LENGTH = 32  # hex digits kept: 128 bits, as the trends print and the rules take them


@dataclass(frozen=True)
class Network:
    address_hash: str
    block_hash: str

    @classmethod
    def of(cls, client_address: str | None) -> Network:
        """The hashes of a client address as the request gives it (remote_addr, behind
        the trusted proxies). Something that is no address (a proxy's garbage, None) still
        hashes, stably, to a block of its own kind."""
        raw = (client_address or "").strip()
        try:
            address = ipaddress.ip_address(raw.split("%", 1)[0])  # no IPv6 zone
        except ValueError:
            return cls(_hash(f"unparsable:{raw}", ADDRESS_PURPOSE),
                       _hash(f"unparsable:{raw}", BLOCK_PURPOSE))
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        prefix = 24 if address.version == 4 else 64
        block = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
        return cls(_hash(str(address), ADDRESS_PURPOSE), _hash(str(block), BLOCK_PURPOSE))


def _hash(value: str, purpose: str) -> str:
    return keyed_hash(value, purpose)[:HASH_LENGTH]


def email_domain(canonical_email: str) -> str:
    """The domain of an address in the form addresses.canonical_email() gives (email-
    validator's: Unicode, NFC, lower case), lower-cased once more for any older caller."""
    return canonical_email.rpartition("@")[2].strip().lower()


def limit_key(client_address: str | None) -> str:
    """The hard limit's key for a client address: an IPv4 address itself (a NAT's people
    share it, and the limit is set high enough for them), an IPv6 address's /64 (one
    customer's: each device may take many addresses in it, so counting per address would
    let one machine multiply its allowance), an IPv4-mapped address as its IPv4 address."""
    raw = (client_address or "").strip()
    try:
        address = ipaddress.ip_address(raw.split("%", 1)[0])
    except ValueError:
        return raw or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
