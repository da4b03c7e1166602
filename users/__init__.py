"""Employees (app "users"): `users.User`, who logs in with their e-mail, and the reference tables of
positions, cities, departments (with their managers) and tags; their Django admin.

It imports nothing of the other apps: the ledger, the shop and the demo build on it.
"""
