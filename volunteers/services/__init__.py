"""Every write in volunteers/, one module per aggregate: one transaction per call, locked rows,
checked transitions, status-change rows, notifications through notifications.services."""
