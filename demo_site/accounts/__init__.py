"""Accounts: user profiles, an audit log of logins, and the custom ``login_succeeded`` signal."""
