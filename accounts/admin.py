"""The Django admin and the second factor: django-otp's device pages are taken out.

A device deleted there would leave no trace in the security log, and its pages would
show what only its owner should see. Users add and remove their own on the account page;
an administrator removes a user's with ``manage.py mfa_reset`` (recorded; docs/mfa.md).
"""

from django.contrib import admin

# Imported first so their registrations exist to undo, whatever the INSTALLED_APPS order.
from django_otp.plugins.otp_static import admin as _static_admin  # noqa: F401
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp import admin as _totp_admin  # noqa: F401
from django_otp.plugins.otp_totp.models import TOTPDevice

for _device in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device):
        admin.site.unregister(_device)
