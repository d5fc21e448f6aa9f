"""Django 5.2.8's tests/async/test_async_model_methods.py (adaptations: tests/django5/__init__.py)."""

from django.test import TestCase

from .models import SimpleModel


class AsyncModelOperationTest(TestCase):
    # setUpTestData() in Django 5.2, whose TestCase (3.2+) copies that data
    # for each test; Django 1.11's shares it between tests.
    def setUp(cls):
        cls.s1 = SimpleModel.objects.create(field=0)

    async def test_asave(self):
        self.s1.field = 10
        await self.s1.asave()
        refetched = await SimpleModel.objects.aget()
        self.assertEqual(refetched.field, 10)

    async def test_adelete(self):
        await self.s1.adelete()
        count = await SimpleModel.objects.acount()
        self.assertEqual(count, 0)

    async def test_arefresh_from_db(self):
        await SimpleModel.objects.filter(pk=self.s1.pk).aupdate(field=20)
        await self.s1.arefresh_from_db()
        self.assertEqual(self.s1.field, 20)

    # Not ported: test_arefresh_from_db_from_queryset: refresh_from_db(from_queryset=) is Django 5.1's sync API
