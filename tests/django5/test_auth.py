"""Django 5.2.8's tests/auth_tests: the async tests of test_basic, test_middleware and test_models.

Each class keeps only the async tests (and the set-up they use); the sync
tests test Django 5.2's own auth. Not ported: test_auth_backends,
test_remote_user, test_hashers (their async tests need the auth_tests app's
custom user models and backends, or 5.x-only backend API), and
test_basic's test_aget_user_fallback_secret (SECRET_KEY_FALLBACKS is Django 4.1's).
"""

from unittest import mock

from django.conf.global_settings import PASSWORD_HASHERS
from django.contrib.auth import aget_user
from django.contrib.auth.hashers import get_hasher
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser, Group, User
from django.http import HttpRequest, HttpResponse
from django.test import SimpleTestCase, TestCase, TransactionTestCase, override_settings


# From tests/auth_tests/test_basic.py
class BasicTestCase(TestCase):
    async def test_acreate(self):
        u = await User.objects.acreate_user("testuser", "test@example.com", "testpw")
        self.assertTrue(u.has_usable_password())
        self.assertFalse(await u.acheck_password("bad"))
        self.assertTrue(await u.acheck_password("testpw"))

    async def test_asuperuser(self):
        "Check the creation and properties of a superuser"
        super = await User.objects.acreate_superuser("super", "super@example.com", "super")
        self.assertTrue(super.is_superuser)
        self.assertTrue(super.is_active)
        self.assertTrue(super.is_staff)


# From tests/auth_tests/test_basic.py
class TestGetUser(TestCase):
    async def test_aget_user_anonymous(self):
        request = HttpRequest()
        request.session = await self.client.asession()
        user = await aget_user(request)
        self.assertIsInstance(user, AnonymousUser)


# From tests/auth_tests/test_middleware.py
class TestAuthenticationMiddleware(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.user = User.objects.create_user("test_user", "test@example.com", "test_password")

    def setUp(self):
        self.middleware = AuthenticationMiddleware(lambda req: HttpResponse())
        self.client.force_login(self.user)
        self.request = HttpRequest()
        self.request.session = self.client.session

    async def test_auser(self):
        self.middleware(self.request)
        auser = await self.request.auser()
        self.assertEqual(auser, self.user)
        auser_second = await self.request.auser()
        self.assertIs(auser, auser_second)


# From tests/auth_tests/test_models.py
class NaturalKeysTestCase(TestCase):
    async def test_auser_natural_key(self):
        staff_user = await User.objects.acreate_user(username="staff")
        self.assertEqual(await User.objects.aget_by_natural_key("staff"), staff_user)
        self.assertEqual(staff_user.natural_key(), ("staff",))

    async def test_agroup_natural_key(self):
        users_group = await Group.objects.acreate(name="users")
        self.assertEqual(await Group.objects.aget_by_natural_key("users"), users_group)


# From tests/auth_tests/test_models.py
class UserManagerTestCase(TransactionTestCase):
    async def test_acreate_super_user_raises_error_on_false_is_superuser(self):
        with self.assertRaisesMessage(ValueError, "Superuser must have is_superuser=True."):
            await User.objects.acreate_superuser(
                username="test",
                email="test@test.com",
                password="test",
                is_superuser=False,
            )

    async def test_acreate_superuser_raises_error_on_false_is_staff(self):
        with self.assertRaisesMessage(ValueError, "Superuser must have is_staff=True."):
            await User.objects.acreate_superuser(
                username="test",
                email="test@test.com",
                password="test",
                is_staff=False,
            )


# From tests/auth_tests/test_models.py
class AbstractUserTestCase(TestCase):
    @override_settings(PASSWORD_HASHERS=PASSWORD_HASHERS)
    async def test_acheck_password_upgrade(self):
        user = await User.objects.acreate_user(username="user", password="foo")
        initial_password = user.password
        self.assertIs(await user.acheck_password("foo"), True)
        hasher = get_hasher("default")
        self.assertEqual("pbkdf2_sha256", hasher.algorithm)

        old_iterations = hasher.iterations
        try:
            # Upgrade the password iterations.
            hasher.iterations = old_iterations + 1
            with mock.patch(
                "django.contrib.auth.password_validation.password_changed"
            ) as pw_changed:
                self.assertIs(await user.acheck_password("foo"), True)
                self.assertEqual(pw_changed.call_count, 0)
            self.assertNotEqual(initial_password, user.password)
        finally:
            hasher.iterations = old_iterations


# From tests/auth_tests/test_models.py
class AnonymousUserTests(SimpleTestCase):
    def setUp(self):
        self.user = AnonymousUser()

    async def test_properties_async_versions(self):
        self.assertEqual(await self.user.groups.acount(), 0)
        self.assertEqual(await self.user.user_permissions.acount(), 0)
        self.assertEqual(await self.user.aget_user_permissions(), set())
        self.assertEqual(await self.user.aget_group_permissions(), set())
