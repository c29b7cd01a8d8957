"""gridgov analytics: the read model of ticket history, hot spots, trends and the risk map API (issue #15)."""
