"""API-key authentication and role-based authorisation for machine and staff clients."""
