"""The case-review workbench in a browser (Django; `pip install 'fundwatch[web]'`, `fundwatch serve`).

Pages are a thin layer over fundwatch.review.ReviewStore, which holds the loop, the scopes
and the audit trail; Django supplies logins, sessions, CSRF, the admin and migrations.
"""
