"""tracker/rsgi.py: the environ Django gets from granian's RSGI scope."""

from tracker.rsgi import _plain_address


def test_an_ipv4_client_of_a_dual_stack_listener_is_its_ipv4_address():
    """Else every IPv4 client would share the ::/64 rate-limit bucket."""
    assert _plain_address("::ffff:198.51.100.7") == "198.51.100.7"
    assert _plain_address("2001:db8::1") == "2001:db8::1"
    assert _plain_address("198.51.100.7") == "198.51.100.7"
    assert _plain_address("not an address") == "not an address"
