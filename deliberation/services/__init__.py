"""Every write of the deliberation app, one module an aggregate: sessions, topics (with
their action items), surveys and the three lists."""
