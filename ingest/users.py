"""Distinct users per group: exact up to USERS_EXACT_UP_TO, then an adaptive-sampling estimate.

A group keeps the hashes of its users (errors.GroupUser) while it has at most the bound; past
it, the sampling level goes up by one and only the hashes whose top `level` bits are zero stay
(about half). Every later user is kept only if its hash is in the sample, so the kept count
times 2**level estimates the distinct users, with a standard error of about 1/sqrt(kept) (1–1.5 % at the
default 10,000). Each step is a statement under the group's row lock, in the report's
transaction: concurrent reports cannot count a user twice.
"""

from django.conf import settings

from errors.userhash import HASH_BITS, in_sample, user_hash

from .committed import CommittedSet

_INSERT_USER = (
    "INSERT INTO error_users (error_id, user_hash) VALUES (%s, %s) ON CONFLICT (error_id, user_hash) DO NOTHING "
    "RETURNING 1"
)
_COUNT_NEW_USER = "UPDATE errors SET users_sampled = users_sampled + 1 WHERE id = %s RETURNING users_sampled"
_DROP_OUT_OF_SAMPLE = "DELETE FROM error_users WHERE error_id = %s AND user_hash >= %s"
_RAISE_LEVEL = (
    "UPDATE errors SET users_level = %s, users_sampled = (SELECT COUNT(*) FROM error_users WHERE error_id = %s) "
    "WHERE id = %s"
)

# (group, user hash) pairs this process knows are counted (or out of the sample, which they stay
# at every higher level), so a returning user costs no statement.
known_users = CommittedSet(100_000)


def count_user(cursor, error_id, level, user_id):
    """Count `user_id` into the group's distinct users, if it is new and in the sample."""
    hashed = user_hash(user_id)
    pair = (error_id, hashed)
    if pair in known_users:
        return
    if in_sample(hashed, level):
        cursor.execute(_INSERT_USER, [error_id, hashed])
        if cursor.fetchone() is not None:
            cursor.execute(_COUNT_NEW_USER, [error_id])
            sampled = cursor.fetchone()[0]
            while sampled > settings.USERS_EXACT_UP_TO:
                level += 1
                sampled = _raise_level(cursor, error_id, level)
    known_users.add_on_commit(pair)


def _raise_level(cursor, error_id, level):
    """Halve the sample: keep only hashes below 2**(HASH_BITS - level); returns how many stay."""
    cursor.execute(_DROP_OUT_OF_SAMPLE, [error_id, 1 << (HASH_BITS - level)])
    cursor.execute(_RAISE_LEVEL, [level, error_id, error_id])
    cursor.execute("SELECT users_sampled FROM errors WHERE id = %s", [error_id])
    return cursor.fetchone()[0]
