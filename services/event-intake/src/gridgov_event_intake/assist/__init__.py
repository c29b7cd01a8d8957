"""The 12345 seat assistant (坐席助手): category suggestions for a caller's text, learned from the catalog and the
city's own corrections (issue #17)."""
