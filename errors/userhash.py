"""How a user is kept for counting: a 63-bit hash of its user_id (fits a signed BIGINT)."""

import hashlib

HASH_BITS = 63


def user_hash(user_id):
    return int.from_bytes(hashlib.blake2b(user_id.encode("utf-8"), digest_size=8).digest(), "big") >> 1


def in_sample(hash_value, level):
    """Whether a hash is kept at sampling level `level`: its top `level` bits are zero, so each
    level keeps half the previous level's users."""
    return hash_value >> (HASH_BITS - level) == 0
