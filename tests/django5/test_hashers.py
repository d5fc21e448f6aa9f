"""Django 5.2.8's tests/auth_tests/test_hashers.py: its async tests that apply.

``TestUtilsHashPass.test_acheck_password`` (``acheck_password`` is Django
5.0's, backported). Not ported: ``test_acheck_password_calls_make_password_to_fake_runtime``
(Django 1.11's sync ``check_password`` returns at once for a missing password
or an unusable hash; calling ``make_password`` to even out the timing is
Django 4.2's).
"""

from django.conf.global_settings import PASSWORD_HASHERS
from django.contrib.auth.hashers import acheck_password, make_password
from django.test import SimpleTestCase
from django.test.utils import override_settings


@override_settings(PASSWORD_HASHERS=PASSWORD_HASHERS)
class TestUtilsHashPass(SimpleTestCase):
    async def test_acheck_password(self):
        encoded = make_password("lètmein")
        self.assertIs(await acheck_password("lètmein", encoded), True)
        self.assertIs(await acheck_password("lètmeinz", encoded), False)
        # Blank passwords.
        blank_encoded = make_password("")
        self.assertIs(await acheck_password("", blank_encoded), True)
        self.assertIs(await acheck_password(" ", blank_encoded), False)
