"""State: feeds, items, alerts, outbox, on SQLite or PostgreSQL.

Takes the outcomes of each stage; gives leases and claims to workers (`claims`) and the rows the
cycle reads. Rules: versioned migrations, one transaction per outcome, nothing lost or sent twice.
"""
