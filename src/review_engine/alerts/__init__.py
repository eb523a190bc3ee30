"""Overdue alerts: the ladder each running deadline climbs (pure, `ladder.py`), detection
that records each rung once (`detection.py`), and the subscriptions and deliveries that
carry alerts out."""
