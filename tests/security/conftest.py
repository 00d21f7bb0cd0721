# The permission matrix's world of real objects (tests/security/world.py), for
# every test here that walks the URLs with real ids.
from tests.security.test_permission_matrix import world  # noqa: F401
