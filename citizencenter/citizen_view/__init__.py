"""The citizen's own view of their case: /mitt-arende/<signed token>, without an account."""
