"""Account security (issue 12): login lockout (django-axes), personal API tokens that expire
and die with a password change, API keys of other systems bound to a node, throttles and
password rules."""
