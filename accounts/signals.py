"""What accounts tells the apps above it, which it cannot import (the layer contract)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the sign-in transaction once a resident's phone code is accepted, with `user`,
# `phone` and `created` (True on the first sign-in): apps that know people by their phone
# (residents) link their records to the account.
phone_verified = Signal()
